"""The public newsletter API: sign up, confirm, unsubscribe (JSON, for the widget and for
sites' own forms). The emailed links land on the HTML pages of pages.py."""

import logging
from datetime import datetime

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.clients import client_address, keyed_hash
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.extensions import db
from engagement.idempotency.views import idempotent
from engagement.mailboxes import canonical_mailbox, mail_domain
from engagement.metrics import CONFIRMATIONS_DELAYED
from engagement.moderation.services import is_banned
from engagement.newsletter import services
from engagement.newsletter.schemas import (
    ConfirmedOut,
    SubscriptionIn,
    SubscriptionOut,
    TokenIn,
    UnsubscribedOut,
)

log = logging.getLogger("engagement.newsletter")

blp = Blueprint("newsletter", __name__, url_prefix="/api/v1/newsletter",
                description="Newsletter signups (double opt-in).")


def signup_from_request(fields: dict) -> services.Signup:
    return services.Signup(
        email=fields["email"], name=fields["name"], source=fields["source"], lang=fields["lang"],
        user_agent=request.headers.get("User-Agent"),
        client_hash=keyed_hash("newsletter-consent", str(client_address())),
    )


def _confirmation_time(email: str) -> datetime | None:
    """When this signup's confirmation email may leave, counted against its mailbox and its
    domain whoever sends it (`a+1@`, `a+2@` and `a.b@gmail.com` are one inbox): None past the
    mailbox's limit (one person's address signed up again and again: not sent), later past
    the domain's (a big night's readers of one provider: each gets theirs, as the limit
    allows). The limits' store keys hold keyed hashes, never an address or a domain (a
    domain of one's own names a person)."""
    config, moment = current_app.config, now()
    mailbox = canonical_mailbox(email)
    if limits.spend(config["LIMIT_MAILBOX"], "mailbox",
                    keyed_hash("mailbox-limit", mailbox)) is not None:
        log.info("newsletter: a mailbox had its confirmation emails for now "
                 "(ENGAGEMENT_LIMIT_MAILBOX %s): this signup's is not sent",
                 config["LIMIT_MAILBOX"])
        return None
    domain = mail_domain(email)
    slot = limits.reserve(config["LIMIT_MAIL_DOMAIN"], "mail-domain",
                          keyed_hash("mail-domain-limit", domain), now=moment)
    if slot is None:
        log.warning("newsletter: confirmation emails to %s are held back past %d windows of "
                    "ENGAGEMENT_LIMIT_MAIL_DOMAIN (%s): this signup's is not sent", domain,
                    limits.THROTTLE_HORIZON_WINDOWS, config["LIMIT_MAIL_DOMAIN"])
        return None
    if slot.at > moment:
        CONFIRMATIONS_DELAYED.inc()
    if slot.throttling_began:
        log.warning("newsletter: confirmation emails to %s are throttled by "
                    "ENGAGEMENT_LIMIT_MAIL_DOMAIN (%s): those past it wait for the windows "
                    "that follow (the first from %s)", domain, config["LIMIT_MAIL_DOMAIN"],
                    slot.at.isoformat())
    return slot.at


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @limits.subscriptions
    @idempotent
    @blp.arguments(SubscriptionIn)
    @blp.response(202, SubscriptionOut)
    def post(self, fields):
        """Sign up for the newsletter (a confirmation email follows)

        The answer is the same for every address, new, pending, confirmed or unsubscribed:
        it tells nothing about who subscribes. The confirmation email is not sent to an
        address that is confirmed already, and at most once per address in
        `ENGAGEMENT_CONFIRM_RESEND_SECONDS`. Past `ENGAGEMENT_LIMIT_MAIL_DOMAIN` it is sent
        later, as the limit allows.
        """
        if not is_banned(fields["email"], client_address(), now=now()):
            send_at = _confirmation_time(fields["email"])
            services.subscribe(signup_from_request(fields), now=now(),
                               policy=services.NewsletterPolicy.from_config(current_app.config),
                               may_mail=send_at is not None, send_at=send_at)
        db.session.commit()
        return {"status": "pending_confirmation"}


@blp.route("/confirm")
class Confirmation(MethodView):
    @limits.reads
    @blp.arguments(TokenIn)
    @blp.response(200, ConfirmedOut)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown or used token")
    @blp.alt_response(410, schema=ErrorSchema, description="Expired token")
    def post(self, fields):
        """Confirm a subscription with the token of the emailed link"""
        services.confirm_subscription(fields["token"], now=now())
        db.session.commit()
        return {"status": "confirmed"}


@blp.route("/unsubscribe")
class Unsubscription(MethodView):
    @limits.reads
    @blp.arguments(TokenIn)
    @blp.response(200, UnsubscribedOut)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown token")
    @blp.alt_response(410, schema=ErrorSchema, description="Expired token")
    def post(self, fields):
        """Unsubscribe with the token of an emailed unsubscribe link"""
        services.unsubscribe(fields["token"], now=now())
        db.session.commit()
        return {"status": "unsubscribed"}
