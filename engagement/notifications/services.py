"""Reply notification rules: asking for them (double opt-in, once per address), emailing each
approved reply by someone else to those who asked, batched per thread so that an address gets
at most one email per thread per `ENGAGEMENT_NOTIFY_BATCH_SECONDS`, and the emailed links
(confirm, stop one thread, stop all). Mail goes through the outbox; functions flush and the
caller commits. No answer of the public API depends on whether an address is subscribed."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.clients import IPAddress, home_network, keyed_hash
from engagement.comments.markdown import plain_text
from engagement.comments.models import Comment, CommentStatus
from engagement.comments.services import ancestors_approved, claim_announcements
from engagement.database import delete_where, insert_if_absent, upsert
from engagement.extensions import db
from engagement.link_pages import public_link
from engagement.mail import outbox
from engagement.notifications.models import (
    NotifyAddress,
    NotifyToken,
    NotifyTokenPurpose,
    ReplySubscription,
)
from engagement.notifications.texts import html_document, language, texts
from engagement.tokens import hash_token, link_token, new_token

CONFIRM_PATH = "/notifications/confirm"
UNSUBSCRIBE_PATH = "/notifications/unsubscribe"


@dataclass(frozen=True)
class NotifyPolicy:
    public_base_url: str
    site_name: str
    batch_window: timedelta
    resend_after: timedelta
    confirm_ttl: timedelta
    unsubscribe_ttl: timedelta

    @classmethod
    def from_config(cls, config) -> NotifyPolicy:
        return cls(
            public_base_url=config["PUBLIC_BASE_URL"],
            site_name=config["SITE_NAME"],
            batch_window=timedelta(seconds=config["NOTIFY_BATCH_SECONDS"]),
            resend_after=timedelta(seconds=config["CONFIRM_RESEND_SECONDS"]),
            confirm_ttl=timedelta(seconds=config["CONFIRM_TOKEN_TTL_SECONDS"]),
            unsubscribe_ttl=timedelta(days=config["UNSUBSCRIBE_TOKEN_TTL_DAYS"]),
        )

    def link(self, path: str, token: str, lang: str | None, **more: str) -> str:
        """A link of an email in `lang`: its page speaks the email's language."""
        return public_link(self.public_base_url, path, token=token, **more,
                           lang=language(lang))


# --- Asking ---------------------------------------------------------------------------------

def request_notifications(comment: Comment, lang: str | None, *, now: datetime,
                          policy: NotifyPolicy) -> None:
    """The author of a new comment asked to hear of replies to it. A confirmed address is
    subscribed at once; any other gets a confirmation email (at most one per
    `resend_after`), and its subscriptions start when it confirms. A comment stored as spam
    asks nothing: a bot must not make the service mail an address it typed."""
    if comment.status is CommentStatus.SPAM:
        return
    email, lang = comment.author_email, language(lang)
    # The upsert takes the address's row lock: asks of one address queue, and one sends.
    upsert(db.session, NotifyAddress, {"email": email, "lang": lang, "created_at": now},
           update={"lang": lang}, on=["email"])
    address = db.session.scalar(sa.select(NotifyAddress).where(NotifyAddress.email == email)
                                .execution_options(populate_existing=True))
    insert_if_absent(db.session, ReplySubscription, {
        "address_id": address.id, "comment_id": comment.id, "created_at": now})
    subscription = db.session.scalar(sa.select(ReplySubscription).where(
        ReplySubscription.address_id == address.id, ReplySubscription.comment_id == comment.id))
    if address.confirmed_at is not None:
        db.session.flush()
        return
    sent = address.confirmation_sent_at
    if sent is not None and sent > now - policy.resend_after:
        db.session.flush()
        return
    address.confirmation_sent_at = now
    confirm_token = _new_token(NotifyTokenPurpose.CONFIRM, address.id, now,
                               expires_at=now + policy.confirm_ttl)
    stop_token = _new_token(NotifyTokenPurpose.UNSUBSCRIBE, address.id, now,
                            subscription_id=subscription.id,
                            expires_at=now + policy.unsubscribe_ttl)
    outbox.enqueue(_confirmation_email(address, confirm_token, stop_token, policy, now),
                   now=now)
    db.session.flush()


def _new_token(purpose: NotifyTokenPurpose, address_id: int, now: datetime, *,
               subscription_id: int | None = None, outbox_id: int | None = None,
               expires_at: datetime | None = None) -> str:
    token = new_token()
    db.session.add(NotifyToken(
        token_hash=hash_token(token), purpose=purpose, address_id=address_id,
        subscription_id=subscription_id, outbox_id=outbox_id, created_at=now,
        expires_at=expires_at))
    return token


def _confirmation_email(address: NotifyAddress, confirm_token: str, stop_token: str,
                        policy: NotifyPolicy, now: datetime):
    words = texts(address.lang)
    site = policy.site_name
    hours = int(policy.confirm_ttl.total_seconds() // 3600) or 1
    confirm_url = policy.link(CONFIRM_PATH, confirm_token, address.lang)
    stop_url = policy.link(UNSUBSCRIBE_PATH, stop_token, address.lang, scope="all")
    intro = words["confirm_intro"].format(site=site)
    note = words["confirm_note"].format(hours=hours)
    stop = words["stop_all"].format(site=site)
    text = (f"{intro}\n\n{confirm_url}\n\n{note}\n\n"
            f"{words['labelled'].format(label=stop, link=stop_url)}\n")
    body = (f"<p>{html.escape(intro)}</p>\n"
            f'<p><a href="{html.escape(confirm_url)}">{html.escape(confirm_url)}</a></p>\n'
            f"<p>{html.escape(note)}</p>\n"
            f'<p><a href="{html.escape(stop_url)}">{html.escape(stop)}</a></p>')
    return outbox.compose(
        address.email, words["confirm_subject"].format(site=site), text, now=now,
        html=html_document(body, address.lang), headers=_unsubscribe_headers(stop_url))


def _unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail programs POST to the link."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# --- Replies --------------------------------------------------------------------------------

def comment_published(comment: Comment, *, now: datetime, policy: NotifyPolicy) -> None:
    """A comment became public (posted approved, or approved by a moderator)."""
    comments_published([comment], now=now, policy=policy)


def comments_published(found: list[Comment], *, now: datetime, policy: NotifyPolicy) -> None:
    """Comments became public. The first time each does, a reply joins the batch email of
    every confirmed subscriber to its parent, other than its own author; a held reply has sent
    nothing until now. The statements do not grow with the number of comments, only with the
    emails to write."""
    claimed = claim_announcements(found, now)
    replies = [comment for comment in found
               if comment.id in claimed and comment.parent_id is not None]
    if not replies:
        return
    subscribers: dict[int, list[tuple[ReplySubscription, NotifyAddress]]] = {}
    for subscription, address in db.session.execute(
        sa.select(ReplySubscription, NotifyAddress)
        .join(NotifyAddress, NotifyAddress.id == ReplySubscription.address_id)
        .where(ReplySubscription.comment_id.in_({reply.parent_id for reply in replies}),
               ReplySubscription.stopped_at.is_(None),
               NotifyAddress.confirmed_at.is_not(None))
        .order_by(ReplySubscription.id)
        .with_for_update(of=ReplySubscription)
    ):
        subscribers.setdefault(subscription.comment_id, []).append((subscription, address))
    news: dict[int, tuple[ReplySubscription, NotifyAddress, list[Comment]]] = {}
    for reply in replies:
        for subscription, address in subscribers.get(reply.parent_id, []):
            if address.email != reply.author_email:
                news.setdefault(subscription.id, (subscription, address, []))[2].append(reply)
    for subscription, address, new_replies in news.values():
        _announce_replies(new_replies, subscription, address, now, policy)
    db.session.flush()


def _announce_replies(replies: list[Comment], subscription: ReplySubscription,
                      address: NotifyAddress, now: datetime, policy: NotifyPolicy) -> None:
    """The replies join the subscriber's batch email, written when it is due."""
    batch = outbox.open_batch(_batch_key(subscription.id), recipient=address.email, now=now,
                              due=now + policy.batch_window)
    outbox.add_to_batch(batch, [reply.id for reply in replies], "reply")


BATCHES = "replies"  # the prefix of reply batches' keys


def _batch_key(subscription_id: int) -> str:
    return f"{BATCHES}:{subscription_id}"


def write_replies(batch: int, batch_key: str, recipient: str, now: datetime, *,
                  policy: NotifyPolicy):
    """A reply batch's email, written when it is due with its replies as they are then (a
    reply deleted, rejected or erased meanwhile, or below a comment no longer approved (the
    thread does not show it), is left out, an edited one is quoted as edited) and a fresh
    unsubscribe link; None when no reply is left, or the subscription stopped."""
    subscription = db.session.get(ReplySubscription, int(batch_key.partition(":")[2]))
    address = subscription and db.session.get(NotifyAddress, subscription.address_id)
    parent = subscription and db.session.get(Comment, subscription.comment_id)
    # Every reply of the batch answers `parent`: they show while it and all above it are
    # approved (one walk up for them all).
    shown = bool(parent) and parent.status is CommentStatus.APPROVED and ancestors_approved(parent)
    replies = [comment for comment, _ in outbox.batched_comments(batch)
               if shown and comment.status is CommentStatus.APPROVED and not comment.deleted]
    db.session.execute(sa.delete(NotifyToken).where(NotifyToken.outbox_id == batch))
    if (not replies or address is None or subscription.stopped_at is not None
            or address.confirmed_at is None):
        return None
    article = db.session.get(Article, parent.article_id)
    token = _new_token(NotifyTokenPurpose.UNSUBSCRIBE, address.id, now,
                       subscription_id=subscription.id, outbox_id=batch,
                       expires_at=now + policy.unsubscribe_ttl)
    return _replies_email(address, article, replies, token, policy, now)


def _replies_email(address: NotifyAddress, article: Article, replies: list[Comment],
                   token: str, policy: NotifyPolicy, now: datetime):
    words = texts(address.lang)
    site, title = policy.site_name, article.title or article.id
    thread_url = policy.link(UNSUBSCRIBE_PATH, token, address.lang)
    all_url = policy.link(UNSUBSCRIBE_PATH, token, address.lang, scope="all")
    news = "reply" if len(replies) == 1 else "replies"  # "reply_intro" or "replies_intro"
    intro = words[f"{news}_intro"].format(title=title)
    text_parts, html_parts = [intro, ""], [f"<p>{html.escape(intro)}</p>"]
    for reply in replies:
        by = words["reply_by"].format(name=reply.author_name)
        said = plain_text(reply.body_html)
        link = f"{article.url}#engagement-comment-{reply.id}" if article.url else None
        text_parts += [by, said, *([words["labelled"].format(label=words["view"], link=link)]
                                   if link else []), ""]
        html_parts.append(
            f"<p><strong>{html.escape(by)}</strong></p>\n"
            f'<blockquote dir="auto">{reply.body_html}</blockquote>'
            + (f'\n<p><a href="{html.escape(link)}">{html.escape(words["view"])}</a></p>'
               if link else ""))
    stop_all = words["stop_all"].format(site=site)
    text_parts += ["--", words["labelled"].format(label=words["unsubscribe"], link=thread_url),
                   words["labelled"].format(label=stop_all, link=all_url)]
    html_parts.append(
        f'<hr>\n<p><a href="{html.escape(thread_url)}">{html.escape(words["unsubscribe"])}</a>'
        f' · <a href="{html.escape(all_url)}">{html.escape(stop_all)}</a></p>')
    return outbox.compose(
        address.email, words[f"{news}_subject"].format(site=site, title=title),
        "\n".join(text_parts) + "\n", now=now,
        html=html_document("\n".join(html_parts), address.lang),
        headers=_unsubscribe_headers(thread_url))


# --- The emailed links ----------------------------------------------------------------------

def _token(token: str, purpose: NotifyTokenPurpose, now: datetime) -> NotifyToken:
    return link_token(NotifyToken, token, purpose, now=now, expired=(
        "This link has expired: ask for reply emails again to get a new one."))


def token_state(token: str, purpose: NotifyTokenPurpose, *, now: datetime) -> bool:
    """Whether a link's token would work, changing nothing: raises as using it would, else
    whether its address is confirmed."""
    found = _token(token, purpose, now)
    return db.session.get(NotifyAddress, found.address_id).confirmed_at is not None


def confirm_address(token: str, *, client: IPAddress | None, now: datetime) -> None:
    """The confirmation button: the address's subscriptions start, now and for later asks, and
    the address counts as verified from the client's home network. The address's confirmation
    links keep working (confirming nothing more, and moving the verified network nowhere)
    until they expire or the address stops every reply email, so that a reader pressing twice
    is told they are confirmed."""
    found = _token(token, NotifyTokenPurpose.CONFIRM, now)
    address = db.session.get(NotifyAddress, found.address_id)
    if address.confirmed_at is None:
        address.confirmed_at = now
        address.stopped_at = None
        if client is not None:
            address.verified_network = _network_key(client)
    db.session.flush()


def unsubscribe(token: str, *, everything: bool, now: datetime) -> None:
    """Stop one thread's emails, or (`everything`) every reply email to the address: then the
    address needs a new confirmation before it hears of replies again. Emails of what was
    stopped that wait to be sent are not sent. The link keeps working."""
    found = _token(token, NotifyTokenPurpose.UNSUBSCRIBE, now)
    to_stop = sa.select(ReplySubscription).where(ReplySubscription.stopped_at.is_(None))
    if everything:
        address = db.session.get(NotifyAddress, found.address_id)
        address.confirmed_at = None
        address.confirmation_sent_at = None
        address.stopped_at = now
        to_stop = to_stop.where(ReplySubscription.address_id == address.id)
        db.session.execute(sa.delete(NotifyToken).where(
            NotifyToken.address_id == address.id,
            NotifyToken.purpose == NotifyTokenPurpose.CONFIRM))
    else:
        to_stop = to_stop.where(ReplySubscription.id == found.subscription_id)
    subscriptions = db.session.scalars(to_stop).all()
    for subscription in subscriptions:
        subscription.stopped_at = now
    outbox.erase_batches([_batch_key(subscription.id) for subscription in subscriptions])
    db.session.flush()


def verified_from(email: str, client: IPAddress | None) -> bool:
    """Whether the owner of `email` confirmed reply emails from this client's home network
    (the same work whatever the answer: one indexed lookup)."""
    if client is None:
        return False
    return db.session.scalar(sa.select(NotifyAddress.id).where(
        NotifyAddress.email == email.strip().lower(),
        NotifyAddress.verified_network == _network_key(client))) is not None


def _network_key(client: IPAddress) -> str:
    return keyed_hash("verified-network", str(home_network(client)))


# --- People's data --------------------------------------------------------------------------

def _address(email: str) -> NotifyAddress | None:
    return db.session.scalar(
        sa.select(NotifyAddress).where(NotifyAddress.email == email.strip().lower()))


def address_record(email: str) -> dict | None:
    """What is kept of an address for reply emails (export), or None."""
    address = _address(email)
    if address is None:
        return None
    subscriptions = db.session.scalars(sa.select(ReplySubscription).where(
        ReplySubscription.address_id == address.id).order_by(ReplySubscription.id))
    return {
        "lang": address.lang, "created_at": address.created_at,
        "confirmed_at": address.confirmed_at, "stopped_at": address.stopped_at,
        "subscriptions": [{"comment_id": subscription.comment_id,
                           "created_at": subscription.created_at,
                           "stopped_at": subscription.stopped_at}
                          for subscription in subscriptions],
    }


def erase_address(email: str) -> int:
    """Forget an address for reply emails: its subscriptions, links and waiting emails. 1 when
    there was one."""
    address = _address(email)
    if address is None:
        return 0
    subscription_ids = db.session.scalars(sa.select(ReplySubscription.id).where(
        ReplySubscription.address_id == address.id)).all()
    outbox.erase_batches([_batch_key(subscription_id) for subscription_id in subscription_ids])
    db.session.execute(sa.delete(NotifyAddress).where(NotifyAddress.id == address.id)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    return 1


def purge_expired_tokens(now: datetime) -> int:
    """Drop the links of reply emails past their expiry: they can only answer token_expired."""
    return delete_where(db.session, NotifyToken, NotifyToken.expires_at < now)
