"""The pages the emailed links open: /newsletter/confirm and /newsletter/unsubscribe.

Opening a link (GET) only shows a page with a button, so mail scanners and link previews
that fetch it change nothing; the button POSTs a form to the same address. The unsubscribe
address also takes the one-click POST of RFC 8058 (`List-Unsubscribe=One-Click`) that mail
programs send from the List-Unsubscribe header. These are not JSON API paths: they take forms.
Every link carries the language its email was written in (`lang`), and its pages speak it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect

from engagement import limits
from engagement.clock import now
from engagement.extensions import db
from engagement.link_pages import LinkPages, link_token
from engagement.newsletter import services
from engagement.newsletter.models import SubscriberStatus, TokenPurpose
from engagement.newsletter.texts import PAGE_TEXTS

bp = Blueprint("newsletter_pages", __name__, url_prefix="/newsletter")
# The links' pages count as reads: a token cannot be guessed faster than a page is read.
limits.reads(bp)
# Each page speaks the language its link carries: the confirmation email's.
PAGES = LinkPages(PAGE_TEXTS)


@bp.get("/confirm")
def confirm_page():
    """The emailed confirmation link: a button, nothing confirmed yet."""
    token = link_token()
    return PAGES.confirmation(lambda: services.token_state(
        token, TokenPurpose.CONFIRM, now=now()) is SubscriberStatus.CONFIRMED, token)


@bp.post("/confirm")
def confirm():
    """The button: confirm, then say so (or go to ENGAGEMENT_NEWSLETTER_CONFIRMED_URL)."""
    refusal = PAGES.refusal(lambda: services.confirm_subscription(link_token(), now=now()))
    if refusal:
        return refusal
    db.session.commit()
    target = current_app.config["NEWSLETTER_CONFIRMED_URL"]
    if target:
        return redirect(target, 303)
    return PAGES.page("confirmed")


@bp.get("/unsubscribe")
def unsubscribe_page():
    """The emailed unsubscribe link: a button, nobody unsubscribed yet."""
    token = link_token()
    return PAGES.offer(lambda: services.token_state(token, TokenPurpose.UNSUBSCRIBE, now=now()),
                       "unsubscribe", {"token": token, "List-Unsubscribe": "One-Click"},
                       expired="unsubscribe_expired")


@bp.post("/unsubscribe")
def unsubscribe():
    """The button, or a mail program's one-click POST (RFC 8058)."""
    refusal = PAGES.refusal(lambda: services.unsubscribe(link_token(), now=now()),
                            expired="unsubscribe_expired")
    if refusal:
        return refusal
    db.session.commit()
    return PAGES.page("unsubscribed")
