"""The pages the emailed links open: /newsletter/confirm and /newsletter/unsubscribe.

Opening a link (GET) only shows a page with a button, so mail scanners and link previews
that fetch it change nothing; the button POSTs a form to the same address. The unsubscribe
address also takes the one-click POST of RFC 8058 (`List-Unsubscribe=One-Click`) that mail
programs send from the List-Unsubscribe header. These are not JSON API paths: they take forms.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request

from engagement import limits
from engagement.clock import now
from engagement.errors import TokenExpired, UnknownToken
from engagement.extensions import db
from engagement.link_pages import link_page
from engagement.newsletter import services
from engagement.newsletter.models import TokenPurpose

bp = Blueprint("newsletter_pages", __name__, url_prefix="/newsletter")
# The links' pages count as reads: a token cannot be guessed faster than a page is read.
limits.reads(bp)

TEXTS = {
    "confirm": ("Confirm your subscription",
                "Press the button to start receiving our newsletter.", "Confirm"),
    "confirmed": ("You are subscribed", "Thank you: your subscription is confirmed.", None),
    "unsubscribe": ("Unsubscribe", "Press the button to stop receiving our newsletter.",
                    "Unsubscribe"),
    "unsubscribed": ("You are unsubscribed",
                     "You will not receive our newsletter any more.", None),
    "unknown": ("This link does not work",
                "The link is not valid, or it was used already.", None),
    "expired": ("This link has expired",
                "Sign up again, and we will send you a new confirmation link.", None),
    "unsubscribe_expired": ("This link has expired",
                            "This unsubscribe link is too old: use the link in a more "
                            "recent email from us.", None),
}


def page(kind: str, status: int = 200, token: str = "", one_click: bool = False):
    title, text, button = TEXTS[kind]
    fields = {"token": token, **({"List-Unsubscribe": "One-Click"} if one_click else {})}
    return link_page(title, text, button, status=status, fields=fields)


def _token() -> str:
    return (request.form.get("token") or request.args.get("token") or "").strip()[:200]


def _check(token: str, purpose: TokenPurpose) -> str | None:
    """The page for a link that does not work, or None when it does."""
    try:
        services.token_state(token, purpose, now=now())
    except UnknownToken:
        return "unknown"
    except TokenExpired:
        return "expired"
    return None


ERROR_STATUS = {"unknown": 404, "expired": 410}


@bp.get("/confirm")
def confirm_page():
    """The emailed confirmation link: a button, nothing confirmed yet."""
    token = _token()
    problem = _check(token, TokenPurpose.CONFIRM)
    if problem:
        return page(problem, ERROR_STATUS[problem])
    return page("confirm", token=token)


@bp.post("/confirm")
def confirm():
    """The button: confirm, then say so (or go to ENGAGEMENT_NEWSLETTER_CONFIRMED_URL)."""
    try:
        services.confirm_subscription(_token(), now=now())
    except UnknownToken:
        return page("unknown", 404)
    except TokenExpired:
        return page("expired", 410)
    db.session.commit()
    target = current_app.config["NEWSLETTER_CONFIRMED_URL"]
    if target:
        return redirect(target, 303)
    return page("confirmed")


@bp.get("/unsubscribe")
def unsubscribe_page():
    """The emailed unsubscribe link: a button, nobody unsubscribed yet."""
    token = _token()
    problem = _check(token, TokenPurpose.UNSUBSCRIBE)
    if problem == "expired":
        return page("unsubscribe_expired", 410)
    if problem:
        return page(problem, ERROR_STATUS[problem])
    return page("unsubscribe", token=token, one_click=True)


@bp.post("/unsubscribe")
def unsubscribe():
    """The button, or a mail program's one-click POST (RFC 8058)."""
    try:
        services.unsubscribe(_token(), now=now())
    except UnknownToken:
        return page("unknown", 404)
    except TokenExpired:
        return page("unsubscribe_expired", 410)
    db.session.commit()
    return page("unsubscribed")
