"""Newsletter rules: double opt-in signups that answer alike for every address, confirmation
and unsubscription by token, the consent record, and the admins' list, export and erasure.
Functions flush; the route commits, and the confirmation email leaves after that commit."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engagement.admin.services import audit
from engagement.database import delete_where, upsert
from engagement.errors import NotFound
from engagement.extensions import db
from engagement.link_pages import public_link
from engagement.mail import outbox
from engagement.newsletter.models import (
    Subscriber,
    SubscriberStatus,
    SubscriberToken,
    TokenPurpose,
)
from engagement.newsletter.texts import texts
from engagement.notifications.texts import html_document, language
from engagement.pagination import newest_first
from engagement.tokens import hash_token, link_token, new_token

# The version of the consent text the signup form shows; change it with the text, so that
# each consent record says which words the subscriber agreed to.
CONSENT_VERSION = "2026-11"
CONFIRM_PATH = "/newsletter/confirm"
UNSUBSCRIBE_PATH = "/newsletter/unsubscribe"

@dataclass(frozen=True)
class NewsletterPolicy:
    public_base_url: str
    site_name: str
    resend_after: timedelta
    confirm_ttl: timedelta
    unsubscribe_ttl: timedelta

    @classmethod
    def from_config(cls, config) -> NewsletterPolicy:
        return cls(
            public_base_url=config["PUBLIC_BASE_URL"],
            site_name=config["SITE_NAME"],
            resend_after=timedelta(seconds=config["CONFIRM_RESEND_SECONDS"]),
            confirm_ttl=timedelta(seconds=config["CONFIRM_TOKEN_TTL_SECONDS"]),
            unsubscribe_ttl=timedelta(days=config["UNSUBSCRIBE_TOKEN_TTL_DAYS"]),
        )

    def link(self, path: str, token: str, lang: str | None) -> str:
        """A link of an email in `lang`: its page speaks the email's language."""
        return public_link(self.public_base_url, path, token=token, lang=language(lang))


@dataclass(frozen=True)
class Signup:
    """A signup as the form sent it, with who sent it: the consent record's facts."""

    email: str
    name: str | None
    source: str | None
    user_agent: str | None
    client_hash: str | None
    lang: str | None = None  # of the confirmation email; not part of the consent record


def subscribe(signup: Signup, *, now: datetime, policy: NewsletterPolicy,
              may_mail: bool = True, send_at: datetime | None = None) -> None:
    """Sign an address up, for double opt-in: it is pending until the emailed link confirms it.

    A new address gets a consent record; a known one keeps its own (a stranger's signup must
    not rewrite it) and the confirmation link carries the new consent until it is used. A
    confirmed address gets no email. A confirmation email is queued at most once per address in
    `resend_after`. Every address takes the same statements in the same order, sending or
    not, so that neither the answer nor its timing says which kind of address it was.
    A confirmation email held back to `send_at` (a throttled mail domain) leaves then, its
    links valid for their whole lifetimes from then.
    """
    send_at = max(now, send_at or now)
    email = signup.email.lower()  # one subscriber per address, however it is written
    confirm_token, unsubscribe_token = new_token(), new_token()
    message = _confirmation_email(email, signup.lang, confirm_token, unsubscribe_token,
                                  policy=policy, now=now)
    consent = {
        "name": signup.name,
        "source": signup.source,
        "consent_version": CONSENT_VERSION,
        "signed_up_at": now,
        "user_agent": signup.user_agent[:512] if signup.user_agent else None,
        "client_hash": signup.client_hash,
    }
    # A new address starts with this signup's record; a known one keeps its own, whatever
    # its state, until the confirmation link sent now is used (confirm_subscription). Its
    # count of signups still goes up: a transaction that wrote nothing would commit faster
    # (SQLite skips the sync to disk), and tell a known address from a new one.
    upsert(
        db.session, Subscriber,
        {"email": email, "created_at": now, "confirmation_sent_at": None,
         "status": SubscriberStatus.PENDING, "confirmed_at": None, "unsubscribed_at": None,
         "updated_at": now, "signups": 1, **consent},
        update={"signups": Subscriber.signups + 1}, on=["email"],
    )
    subscriber_id = db.session.scalar(
        sa.select(Subscriber.id).where(Subscriber.email == email))
    # The throttle is claimed by the database: of two signups at once, one sends.
    send = db.session.execute(
        sa.update(Subscriber)
        .where(Subscriber.id == subscriber_id,
               sa.literal(may_mail),
               Subscriber.status != SubscriberStatus.CONFIRMED,
               sa.or_(Subscriber.confirmation_sent_at.is_(None),
                      Subscriber.confirmation_sent_at <= now - policy.resend_after))
        .values(confirmation_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    for token, purpose, expires_at in (
        (confirm_token, TokenPurpose.CONFIRM, send_at + policy.confirm_ttl),
        (unsubscribe_token, TokenPurpose.UNSUBSCRIBE, send_at + policy.unsubscribe_ttl),
    ):
        _insert_when(send, SubscriberToken, {
            "token_hash": hash_token(token), "subscriber_id": subscriber_id,
            "purpose": purpose, "created_at": now, "expires_at": expires_at, **consent,
        })
    outbox.enqueue(message, now=now, subscriber_id=subscriber_id, when=send, due=send_at)
    db.session.flush()


def _confirmation_email(email: str, lang: str | None, confirm_token: str,
                        unsubscribe_token: str, *, policy: NewsletterPolicy, now: datetime):
    """The confirmation email, in the reader's language, under the publication's name, as
    text and HTML."""
    words, site = texts(lang), policy.site_name
    confirm_url = policy.link(CONFIRM_PATH, confirm_token, lang)
    unsubscribe_url = policy.link(UNSUBSCRIBE_PATH, unsubscribe_token, lang)
    hello, intro = words["hello"], words["intro"].format(site=site)
    note = words["note"].format(hours=int(policy.confirm_ttl.total_seconds() // 3600) or 1)
    text = (f"{hello}\n\n{intro}\n\n{confirm_url}\n\n{note}\n\n"
            f"{words['unsubscribe']} {unsubscribe_url}\n")
    body = "\n".join(
        [f"<p>{html.escape(part)}</p>" for part in (hello, intro)]
        + [f'<p><a href="{html.escape(confirm_url)}">{html.escape(confirm_url)}</a></p>',
           f"<p>{html.escape(note)}</p>",
           f'<p>{html.escape(words["unsubscribe"])} '
           f'<a href="{html.escape(unsubscribe_url)}">{html.escape(unsubscribe_url)}</a></p>'])
    return subscriber_email(email, words["subject"].format(site=site), text,
                            html=html_document(body, lang), lang=lang,
                            unsubscribe_token=unsubscribe_token, policy=policy, now=now)


def subscriber_email(recipient: str, subject: str, body: str, *, unsubscribe_token: str,
                     lang: str | None, policy: NewsletterPolicy, now: datetime,
                     html: str | None = None):
    """An email to a subscriber, in `lang`: every one carries a one-click unsubscribe
    (RFC 8058)."""
    return outbox.compose(recipient, subject, body, now=now, html=html, headers={
        "List-Unsubscribe": f"<{policy.link(UNSUBSCRIBE_PATH, unsubscribe_token, lang)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    })


def _insert_when(condition: bool, model: type[db.Model], values: dict[str, Any]) -> None:
    """INSERT ... SELECT ... WHERE condition: the same statement whether it inserts or not."""
    table = model.__table__
    row = sa.select(*(sa.literal(value, table.c[name].type) for name, value in values.items()))
    db.session.execute(sa.insert(table).from_select(list(values),
                                                    row.where(sa.literal(condition))))


CONSENT_FIELDS = ("name", "source", "consent_version", "signed_up_at", "user_agent",
                  "client_hash")


def _token(token: str, purpose: TokenPurpose, now: datetime) -> SubscriberToken:
    return link_token(SubscriberToken, token, purpose, now=now,
                      expired="This link has expired: subscribe again to get a new one.")


def _subscriber_for(token: str, purpose: TokenPurpose, now: datetime) -> Subscriber:
    return db.session.get(Subscriber, _token(token, purpose, now).subscriber_id)


def _drop_confirm_tokens(subscriber_id: int) -> None:
    db.session.execute(sa.delete(SubscriberToken).where(
        SubscriberToken.subscriber_id == subscriber_id,
        SubscriberToken.purpose == TokenPurpose.CONFIRM,
    ))


def confirm_subscription(token: str, *, now: datetime) -> None:
    """The emailed link was followed and its button pressed: the subscription starts. The
    address's confirmation links keep working (confirming nothing more) until they expire or
    the address unsubscribes, so that a reader pressing twice is told they are subscribed."""
    found = _token(token, TokenPurpose.CONFIRM, now)
    subscriber = db.session.get(Subscriber, found.subscriber_id)
    if subscriber.status is not SubscriberStatus.CONFIRMED:
        # The consent this link was sent for becomes the record, now that it is confirmed.
        for field in CONSENT_FIELDS:
            setattr(subscriber, field, getattr(found, field))
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.confirmed_at = now
        subscriber.unsubscribed_at = None
        subscriber.updated_at = now
    db.session.flush()


def unsubscribe(token: str, *, now: datetime) -> None:
    """Stop the subscription (again, if it was stopped: the link keeps working). Confirmation
    links still out are void, and mail not yet sent is not sent."""
    subscriber = _subscriber_for(token, TokenPurpose.UNSUBSCRIBE, now)
    if subscriber.status is not SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = now
        subscriber.updated_at = now
    _drop_confirm_tokens(subscriber.id)
    outbox.erase_for_subscriber(subscriber.id)
    db.session.flush()


def token_state(token: str, purpose: TokenPurpose, *, now: datetime) -> SubscriberStatus:
    """Whether a link's token would work, changing nothing: raises as using it would, else
    the subscriber's state."""
    return _subscriber_for(token, purpose, now).status


# --- The admins' side --------------------------------------------------------------------

def _listing(status: str | None) -> sa.Select:
    query = sa.select(Subscriber)
    if status is not None:
        query = query.where(Subscriber.status == SubscriberStatus(status))
    return query


def subscriber_page(status: str | None, limit: int, cursor: list | None) -> dict[str, Any]:
    """Subscribers, newest first."""
    return newest_first(Subscriber.id).page(_listing(status), limit, cursor)


def all_subscribers(status: str | None) -> Iterator[Subscriber]:
    """Every subscriber, oldest first, read in chunks (for the export)."""
    query = _listing(status).order_by(Subscriber.id).execution_options(yield_per=500)
    yield from db.session.scalars(query)


def record_export(status: str | None, *, actor: str, now: datetime) -> None:
    audit(actor, "newsletter.export", "subscribers", {"status": status or "all"}, now=now)
    db.session.flush()


def erase_subscriber(subscriber_id: int, *, actor: str, now: datetime) -> None:
    """Erasure: the subscriber, their consent record, their tokens and every message to them
    are deleted. The audit entry names the id only, never the address."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound("No such subscriber.")
    outbox.erase_for_subscriber(subscriber_id)
    db.session.execute(
        sa.delete(SubscriberToken).where(SubscriberToken.subscriber_id == subscriber_id))
    db.session.delete(subscriber)
    audit(actor, "newsletter.erase", f"subscriber:{subscriber_id}", now=now)
    db.session.flush()


def purge_expired_tokens(now: datetime) -> int:
    """Drop confirmation and unsubscribe links past their expiry: they can only ever answer
    token_expired."""
    return delete_where(db.session, SubscriberToken, SubscriberToken.expires_at < now)


def purge_unconfirmed(before: datetime) -> int:
    """Erase addresses that signed up before a moment and never confirmed: nobody consented
    to be kept, so nothing of them stays (their tokens and queued mail go with them)."""
    return delete_where(db.session, Subscriber, Subscriber.status == SubscriberStatus.PENDING,
                        Subscriber.signed_up_at < before)
