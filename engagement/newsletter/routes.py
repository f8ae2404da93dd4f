"""The public newsletter API: sign up, confirm, unsubscribe (JSON, for the widget and for
sites' own forms). The emailed links land on the HTML pages of pages.py."""

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
from engagement.moderation.services import is_banned
from engagement.newsletter import services
from engagement.newsletter.schemas import (
    ConfirmedOut,
    SubscriptionIn,
    SubscriptionOut,
    TokenIn,
    UnsubscribedOut,
)

blp = Blueprint("newsletter", __name__, url_prefix="/api/v1/newsletter",
                description="Newsletter signups (double opt-in).")


def signup_from_request(fields: dict) -> services.Signup:
    return services.Signup(
        email=fields["email"], name=fields["name"], source=fields["source"], lang=fields["lang"],
        user_agent=request.headers.get("User-Agent"),
        client_hash=keyed_hash("newsletter-consent", str(client_address())),
    )


def _mailbox_may_get_mail(email: str) -> bool:
    """Count this signup against its mailbox and its domain, whoever sends it: `a+1@`,
    `a+2@` and `a.b@gmail.com` are one inbox, and many clients cannot fill it together."""
    config = current_app.config
    mailbox = canonical_mailbox(email)
    over_mailbox = limits.spend(config["LIMIT_MAILBOX"], "mailbox", mailbox)
    over_domain = limits.spend(config["LIMIT_MAIL_DOMAIN"], "mail-domain", mail_domain(email))
    return over_mailbox is None and over_domain is None


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
        `ENGAGEMENT_CONFIRM_RESEND_SECONDS`.
        """
        if not is_banned(fields["email"], client_address(), now=now()):
            services.subscribe(signup_from_request(fields), now=now(),
                               policy=services.NewsletterPolicy.from_config(current_app.config),
                               may_mail=_mailbox_may_get_mail(fields["email"]))
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
