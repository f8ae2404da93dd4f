"""The pages the reply emails' links open: /notifications/confirm and
/notifications/unsubscribe (one thread, or every reply email with `scope=all`).

Opening a link (GET) only shows a page with a button; the button POSTs a form to the same
address. The unsubscribe address also takes the one-click POST of RFC 8058 that mail programs
send from the List-Unsubscribe header. The pages say the same whoever the address is."""

from __future__ import annotations

from flask import Blueprint, request

from engagement import limits
from engagement.clients import client_address
from engagement.clock import now
from engagement.extensions import db
from engagement.link_pages import LinkPages, link_token
from engagement.notifications import services
from engagement.notifications.models import NotifyTokenPurpose

bp = Blueprint("notification_pages", __name__, url_prefix="/notifications")
# The links' pages count as reads: a token cannot be guessed faster than a page is read.
limits.reads(bp)

TEXTS = {
    "confirm": ("Confirm reply emails",
                "Press the button to get an email when someone replies to your comments.",
                "Confirm"),
    "confirmed": ("Reply emails confirmed",
                  "Thank you: you will get an email when someone replies.", None),
    "unsubscribe": ("Stop emails about this conversation",
                    "Press the button to stop emails about replies in this conversation.",
                    "Stop these emails"),
    "unsubscribe_all": ("Stop all reply emails",
                        "Press the button to stop every reply email to this address.",
                        "Stop all reply emails"),
    "unsubscribed": ("Emails stopped",
                     "You will not get emails about this conversation any more.", None),
    "unsubscribed_all": ("All reply emails stopped",
                         "You will not get reply emails any more. To get them again, tick "
                         "the box with your next comment and confirm.", None),
    "unknown": ("This link does not work",
                "The link is not valid, or it was used already.", None),
    "expired": ("This link has expired",
                "Ask for reply emails again with your next comment to get a new link.", None),
    "unsubscribe_expired": ("This link has expired",
                            "This unsubscribe link is too old: use the link in a more "
                            "recent reply email.", None),
}
PAGES = LinkPages(TEXTS)


def _everything() -> bool:
    return (request.form.get("scope") or request.args.get("scope")) == "all"


@bp.get("/confirm")
def confirm_page():
    """The emailed confirmation link: a button, nothing confirmed yet."""
    token = link_token()
    return PAGES.offer(
        lambda: services.token_state(token, NotifyTokenPurpose.CONFIRM, now=now()),
        "confirm", {"token": token})


@bp.post("/confirm")
def confirm():
    """The button: the address is confirmed for reply emails."""
    refusal = PAGES.refusal(
        lambda: services.confirm_address(link_token(), client=client_address(), now=now()))
    if refusal:
        return refusal
    db.session.commit()
    return PAGES.page("confirmed")


@bp.get("/unsubscribe")
def unsubscribe_page():
    """The emailed link: a button, nothing stopped yet."""
    token, everything = link_token(), _everything()
    return PAGES.offer(
        lambda: services.token_state(token, NotifyTokenPurpose.UNSUBSCRIBE, now=now()),
        "unsubscribe_all" if everything else "unsubscribe",
        {"token": token, **({"scope": "all"} if everything else {})},
        expired="unsubscribe_expired")


@bp.post("/unsubscribe")
def unsubscribe():
    """The button, or a mail program's one-click POST (RFC 8058)."""
    everything = _everything()
    refusal = PAGES.refusal(
        lambda: services.unsubscribe(link_token(), everything=everything, now=now()),
        expired="unsubscribe_expired")
    if refusal:
        return refusal
    db.session.commit()
    return PAGES.page("unsubscribed_all" if everything else "unsubscribed")
