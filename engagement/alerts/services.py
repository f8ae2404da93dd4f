"""Moderator alerts: when a comment is held for review or hidden by flags, each address of
`ENGAGEMENT_MODERATOR_EMAILS` gets it in a digest (at most one email per
`ENGAGEMENT_MODERATOR_DIGEST_SECONDS`), and `ENGAGEMENT_MODERATION_WEBHOOK_URL` gets a signed
JSON POST per event chosen by `ENGAGEMENT_WEBHOOK_EVENTS`. Both go through the outbox, in the
transaction of the change: no request waits on them and a receiver that is down loses nothing.
Functions flush; the caller commits."""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.articles.services import articles_by_id
from engagement.comments.markdown import plain_text
from engagement.comments.models import Comment, CommentStatus
from engagement.extensions import db
from engagement.fields import utc_timestamp
from engagement.link_pages import public_link
from engagement.mail import outbox
from engagement.mail.models import OutboxKind, OutboxMessage
from engagement.moderation.admin_schemas import AdminCommentOut
from engagement.moderation.services import admin_comments

HELD, FLAGGED, POSTED = "comment.held", "comment.flagged", "comment.posted"
# What a moderator is told each event means.
EVENT_WORDS = {HELD: "Held for review", FLAGGED: "Hidden by readers' flags",
               POSTED: "New comment"}
EXCERPT = 200  # characters of a comment's text in a digest line or a chat message


@dataclass(frozen=True)
class AlertPolicy:
    public_base_url: str
    site_name: str
    moderator_emails: tuple[str, ...]
    digest_window: timedelta
    webhook_url: str | None
    webhook_events: frozenset[str]
    ip_retention_days: int

    @classmethod
    def from_config(cls, config) -> AlertPolicy:
        return cls(
            public_base_url=config["PUBLIC_BASE_URL"],
            site_name=config["SITE_NAME"],
            moderator_emails=tuple(config["MODERATOR_EMAILS"]),
            digest_window=timedelta(seconds=config["MODERATOR_DIGEST_SECONDS"]),
            webhook_url=config["MODERATION_WEBHOOK_URL"] or None,
            webhook_events=frozenset(config["WEBHOOK_EVENTS"]),
            ip_retention_days=config["IP_RETENTION_DAYS"],
        )

    def console_link(self, comment_id: int) -> str:
        """Where a moderator reviews a comment: the console, opened on it."""
        return public_link(self.public_base_url, "/admin/", comment=str(comment_id))


def comment_posted(comment: Comment, *, now: datetime, policy: AlertPolicy) -> None:
    """A new comment: held for review, or published (spam caught by the honeypot is not news)."""
    if comment.status is CommentStatus.PENDING:
        moderation_event(HELD, comment, now=now, policy=policy)
    elif comment.status is CommentStatus.APPROVED:
        moderation_event(POSTED, comment, now=now, policy=policy)


def moderation_event(event: str, comment: Comment, *, now: datetime,
                     policy: AlertPolicy) -> None:
    """Tell the moderators: held and flagged comments join each moderator's digest; the
    events the webhook takes are queued for it."""
    article = db.session.get(Article, comment.article_id)
    if event in (HELD, FLAGGED):
        for address in policy.moderator_emails:
            batch = outbox.open_batch(_digest_key(address), recipient=address,
                                      now=now, due=now + policy.digest_window)
            outbox.add_to_batch(batch, [comment.id], event)
    if policy.webhook_url and event in policy.webhook_events:
        outbox.enqueue_webhook(policy.webhook_url,
                               _webhook_body(event, comment, article, policy, now), now=now)
    db.session.flush()


def _excerpt(comment: Comment) -> str:
    text = " ".join(plain_text(comment.body_html).split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _title(article: Article) -> str:
    return article.title or article.id


# A comment listed in a digest is still listed when the digest is due if it still waits for a
# moderator, under what it waits for then.
WAITING = {CommentStatus.PENDING: HELD, CommentStatus.FLAGGED: FLAGGED}


def write_digest(batch: int, batch_key: str, address: str, now: datetime, *,
                 policy: AlertPolicy):
    """The moderator's digest, written when it is due: the comments it lists that still wait
    for a moderator (one approved, rejected or deleted meanwhile is left out), as they read
    then; None when none waits, or when the address is no longer one of the moderators'."""
    if address.lower() not in {moderator.lower() for moderator in policy.moderator_emails}:
        return None
    listed = [(comment, WAITING[comment.status]) for comment, _ in outbox.batched_comments(batch)
              if not comment.deleted and comment.status in WAITING]
    if not listed:
        return None
    articles = articles_by_id({comment.article_id for comment, _ in listed})
    count = len(listed)
    waiting = "1 comment needs" if count == 1 else f"{count} comments need"
    subject = f"{policy.site_name}: {waiting} a moderator"
    lines, items = [f"{subject}.", ""], []
    for comment, event in listed:
        article = articles[comment.article_id]
        link = policy.console_link(comment.id)
        heading = f"{EVENT_WORDS[event]}: {comment.author_name} on “{_title(article)}”"
        lines += [heading, f"  {_excerpt(comment)}", f"  {link}", ""]
        items.append(f"<li><p><strong>{html.escape(heading)}</strong></p>"
                     f'<blockquote dir="auto">{html.escape(_excerpt(comment))}</blockquote>'
                     f'<p><a href="{html.escape(link)}">Review in the console</a></p></li>')
    page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"></head>\n<body>\n'
            f"<p>{html.escape(subject)}.</p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n"
            "</body></html>\n")
    return outbox.compose(address, subject, "\n".join(lines), now=now, html=page)


def _slack_escaped(text: str) -> str:
    """Text as Slack and Mattermost read it: &, < and > escaped, one line."""
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chat_line(event: str, comment: Comment, article: Article, policy: AlertPolicy) -> str:
    """One line for a chat channel: what happened, who, where, what they said, and a link
    (Slack's and Mattermost's <url|label> form)."""
    where = _slack_escaped(_title(article))
    if article.url:
        where = f"<{article.url}|{where}>"
    return (f"{EVENT_WORDS[event]}: {_slack_escaped(comment.author_name)} on {where}: "
            f"“{_slack_escaped(_excerpt(comment))}” <{policy.console_link(comment.id)}|Review>")


DIGESTS = "moderators"  # the prefix of digests' batch keys


def _digest_key(address: str) -> str:
    """A moderator's digest's batch key: of a fixed length, however long the address."""
    return f"{DIGESTS}:" + hashlib.sha256(address.lower().encode()).hexdigest()


def _webhook_body(event: str, comment: Comment, article: Article, policy: AlertPolicy,
                  now: datetime) -> bytes:
    body = {
        # One id per event, the same in each retry, and when it happened: a receiver drops a
        # delivery it has seen (or a replayed one, old) with the signature vouching for both.
        "id": uuid.uuid4().hex,
        "occurred_at": utc_timestamp(now),
        "event": event,
        # The comment as the admin API answers it (its flags and context too), by its schema.
        "comment": AdminCommentOut().dump(
            admin_comments([comment], now=now, ip_retention_days=policy.ip_retention_days)[0]),
        "article": {"id": article.id, "title": article.title, "url": article.url},
        "text": chat_line(event, comment, article, policy),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_events_about(comment_ids: Collection[int]) -> list[OutboxMessage]:
    """The webhook events still in the outbox (queued or failed) that show these comments:
    the event's own comment, or the one it replies to (whose author and text it shows too)."""
    if not comment_ids:
        return []
    events = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK)
        .order_by(OutboxMessage.id)).all()
    return [event for event in events if _shown_comment_ids(event.message) & set(comment_ids)]


def _shown_comment_ids(body: str) -> set[int]:
    comment = json.loads(body).get("comment") or {}
    return {comment.get("id"), (comment.get("parent") or {}).get("id")} - {None}
