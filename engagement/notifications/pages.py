"""The pages the reply emails' links open: /notifications/confirm and
/notifications/unsubscribe (one thread, or every reply email with `scope=all`).

Opening a link (GET) only shows a page with a button; the button POSTs a form to the same
address. The unsubscribe address also takes the one-click POST of RFC 8058 that mail programs
send from the List-Unsubscribe header. The pages say the same whoever the address is, in the
language their link carries (`lang`: its email's)."""

from __future__ import annotations

from flask import Blueprint, request

from engagement import limits
from engagement.clients import client_address
from engagement.clock import now
from engagement.extensions import db
from engagement.link_pages import LinkPages, link_token
from engagement.notifications import services
from engagement.notifications.models import NotifyTokenPurpose
from engagement.notifications.texts import PAGE_TEXTS

bp = Blueprint("notification_pages", __name__, url_prefix="/notifications")
# The links' pages count as reads: a token cannot be guessed faster than a page is read.
limits.reads(bp)

PAGES = LinkPages(PAGE_TEXTS)


def _everything() -> bool:
    return (request.form.get("scope") or request.args.get("scope")) == "all"


@bp.get("/confirm")
def confirm_page():
    """The emailed confirmation link: a button, nothing confirmed yet."""
    token = link_token()
    return PAGES.confirmation(
        lambda: services.token_state(token, NotifyTokenPurpose.CONFIRM, now=now()), token)


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
