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
from engagement.errors import TokenExpired, UnknownToken
from engagement.extensions import db
from engagement.link_pages import link_page
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
ERROR_STATUS = {"unknown": 404, "expired": 410}


def page(kind: str, status: int = 200, **fields: str):
    title, text, button = TEXTS[kind]
    return link_page(title, text, button, status=status, fields=fields)


def _token() -> str:
    return (request.form.get("token") or request.args.get("token") or "").strip()[:200]


def _everything() -> bool:
    return (request.form.get("scope") or request.args.get("scope")) == "all"


def _problem(token: str, purpose: NotifyTokenPurpose) -> str | None:
    """The page for a link that does not work, or None when it does."""
    try:
        services.token_state(token, purpose, now=now())
    except UnknownToken:
        return "unknown"
    except TokenExpired:
        return "expired"
    return None


@bp.get("/confirm")
def confirm_page():
    """The emailed confirmation link: a button, nothing confirmed yet."""
    token = _token()
    problem = _problem(token, NotifyTokenPurpose.CONFIRM)
    if problem:
        return page(problem, ERROR_STATUS[problem])
    return page("confirm", token=token)


@bp.post("/confirm")
def confirm():
    """The button: the address is confirmed for reply emails."""
    try:
        services.confirm_address(_token(), client=client_address(), now=now())
    except UnknownToken:
        return page("unknown", 404)
    except TokenExpired:
        return page("expired", 410)
    db.session.commit()
    return page("confirmed")


@bp.get("/unsubscribe")
def unsubscribe_page():
    """The emailed link: a button, nothing stopped yet."""
    token, everything = _token(), _everything()
    problem = _problem(token, NotifyTokenPurpose.UNSUBSCRIBE)
    if problem == "expired":
        return page("unsubscribe_expired", 410)
    if problem:
        return page(problem, ERROR_STATUS[problem])
    if everything:
        return page("unsubscribe_all", token=token, scope="all")
    return page("unsubscribe", token=token)


@bp.post("/unsubscribe")
def unsubscribe():
    """The button, or a mail program's one-click POST (RFC 8058)."""
    everything = _everything()
    try:
        services.unsubscribe(_token(), everything=everything, now=now())
    except UnknownToken:
        return page("unknown", 404)
    except TokenExpired:
        return page("unsubscribe_expired", 410)
    db.session.commit()
    return page("unsubscribed_all" if everything else "unsubscribed")
