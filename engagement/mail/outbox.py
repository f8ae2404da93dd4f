"""The outbox's rules: composing a message into it in the caller's transaction, claiming due
messages so that concurrent deliverers never take the same one, and recording each attempt
(deleted when delivered, retried with exponential back-off, or kept as failed when refused for
good). Functions flush; whoever runs them commits (the route, the deliverer)."""

from __future__ import annotations

import dataclasses
import email
import email.parser
import email.policy
import email.utils
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from engagement.comments.models import Comment
from engagement.database import delete_where, insert_if_absent, upsert
from engagement.extensions import db
from engagement.mail.models import (
    BatchedComment,
    OutboxBatch,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)

# A failed attempt is tried again after 30 s, then 1, 2, 4, ... minutes, at most hourly.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A claim older than this belongs to a deliverer that died mid-send: the message is free
# again. A deliverer renews its claims before each message it sends (one message takes a few
# SMTP commands of at most ENGAGEMENT_MAIL_TIMEOUT each) and releases them when it stops.
CLAIM_LEASE = timedelta(seconds=60)
BATCH = 20
# The session's info key that tells the commit hook to wake the deliverer.
MAIL_WAITING = "engagement.mail_waiting"
# On PostgreSQL, a commit that queued or freed messages notifies this channel; an idle
# `outbox deliver --watch` LISTENs on it instead of asking the table again and again.
CHANNEL = "engagement_outbox"

# Headers folded at 78 columns would break a long List-Unsubscribe URL into encoded words, so
# lines may be as long as RFC 5322 allows (998); a plain ASCII body is sent as it is, links
# whole, and any other body is quoted-printable at 76 columns.
_POLICY = email.policy.SMTP.clone(max_line_length=998)
_INTERNATIONAL_POLICY = email.policy.SMTPUTF8.clone(max_line_length=998)


def compose(
    recipient: str, subject: str, body: str, *, now: datetime,
    headers: Mapping[str, str] | None = None, html: str | None = None,
) -> EmailMessage:
    """A plain-text message from `ENGAGEMENT_MAIL_FROM` to one recipient, with an HTML
    alternative when `html` is given."""
    sender = current_app.config["MAIL_FROM"]
    policy = _POLICY if recipient.isascii() else _INTERNATIONAL_POLICY
    message = EmailMessage(policy=policy)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(now)
    domain = envelope_sender(sender).rpartition("@")[2] or "localhost"
    message["Message-ID"] = email.utils.make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    if body.isascii():
        message.set_content(body, cte="7bit")
    else:
        message.policy = policy.clone(max_line_length=76)
        message.set_content(body, cte="quoted-printable")
        message.policy = policy
    if html is not None:
        message.policy = policy.clone(max_line_length=76)
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        message.policy = policy
    return message


def envelope_sender(sender: str) -> str:
    """The address of a From header ("Newsroom <news@example.com>" -> news@example.com)."""
    return email.utils.parseaddr(sender)[1] or sender


def enqueue(message: EmailMessage, *, now: datetime, subscriber_id: int | None = None,
            when: bool = True, due: datetime | None = None) -> bool:
    """Put a message in the outbox, in the caller's transaction; it is delivered after the
    commit, or at `due` when that is later (a throttled one). With `when` false the same
    statement runs and inserts nothing, so that callers can keep the work they do the same
    whether they send or not. True when it was queued."""
    values = {
        "subscriber_id": subscriber_id,
        "sender": envelope_sender(message["From"]),
        "recipient": message["To"],
        "message": message.as_string(),
        "status": OutboxStatus.QUEUED,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": max(now, due or now),
    }
    table = OutboxMessage.__table__
    row = sa.select(*(sa.literal(value, table.c[name].type) for name, value in values.items()))
    statement = sa.insert(table).from_select(list(values), row.where(sa.literal(when)))
    queued = db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount == 1
    if queued:
        db.session.info[MAIL_WAITING] = True
    # Whether or not a message was queued: the same statements either way, so that neither
    # their count nor their time tells a caller which it was (a deliverer woken for nothing
    # looks, finds nothing due, and waits again).
    notify_deliverers()
    return queued


def from_current_sender(message: Claimed) -> Claimed:
    """A queued message sent from `ENGAGEMENT_MAIL_FROM` as it is set now (envelope and From
    header): an operator's fix of the sender reaches the messages queued before it."""
    sender = current_app.config["MAIL_FROM"]
    policy = _POLICY if message.recipient.isascii() else _INTERNATIONAL_POLICY
    written = email.parser.Parser(policy=policy).parsestr(message.message, headersonly=True)
    if written["From"] is None or written["From"] == sender:
        return message  # sent as it was queued, byte for byte
    parsed = email.message_from_string(message.message, policy=policy)
    parsed.replace_header("From", sender)
    return dataclasses.replace(message, sender=envelope_sender(sender),
                               message=parsed.as_string())


def notify_deliverers() -> None:
    """Wake the listening deliverers when this transaction commits (PostgreSQL only)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(f"NOTIFY {CHANNEL}"))


def open_batch(batch_key: str, *, recipient: str, now: datetime, due: datetime) -> int:
    """The id of the batch's message that waits for its first attempt, or of a new one, due
    at `due`, that news of the batch will join. The batch's row lock makes concurrent callers
    queue, so one batch never has two waiting messages. The message is written when it is due
    (see `batch_writer`), from what its news is then."""
    upsert(db.session, OutboxBatch, {"batch_key": batch_key, "touched_at": now},
           update={"touched_at": now})
    waiting = db.session.scalar(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.batch_key == batch_key,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.attempts == 0,
            OutboxMessage.claimed_at.is_(None),
        ).order_by(OutboxMessage.id.desc()).limit(1))
    if waiting is not None:
        return waiting
    row = OutboxMessage(kind=OutboxKind.MAIL, batch_key=batch_key, sender="",
                        recipient=recipient, message="", status=OutboxStatus.QUEUED,
                        created_at=now, attempts=0, next_attempt_at=due)
    db.session.add(row)
    db.session.flush()
    db.session.info[MAIL_WAITING] = True
    notify_deliverers()
    return row.id


def add_to_batch(message_id: int, comment_ids: list[int], event: str) -> None:
    """List comments in a batch's waiting message (each once), in one statement."""
    insert_if_absent(db.session, BatchedComment, [
        {"outbox_id": message_id, "comment_id": comment_id, "event": event}
        for comment_id in comment_ids])


def batched_comments(message_id: int) -> list[tuple[Comment, str]]:
    """(comment, event) of every comment a batch's message lists, oldest first, in one query,
    as they are now (edited, rejected or erased since they joined: the writer decides)."""
    return list(db.session.execute(
        sa.select(Comment, BatchedComment.event)
        .join(BatchedComment, BatchedComment.comment_id == Comment.id)
        .where(BatchedComment.outbox_id == message_id).order_by(Comment.id)))


def enqueue_webhook(url: str, body: bytes, *, now: datetime) -> None:
    """A JSON POST to a webhook, in the caller's transaction; sent (and signed) by the
    deliverer after the commit, retried with the same back-off as mail."""
    db.session.add(OutboxMessage(
        kind=OutboxKind.WEBHOOK, sender="", recipient=url, message=body.decode(),
        status=OutboxStatus.QUEUED, created_at=now, attempts=0, next_attempt_at=now))
    db.session.flush()
    db.session.info[MAIL_WAITING] = True
    notify_deliverers()


# What writes a batch's message when it is due: given the message's id, its batch key, its
# recipient and the moment, the message as things stand then, or None when nothing of the
# batch is still news (every comment deleted, rejected, erased or decided): then nothing is
# sent. Each feature that opens batches names a writer for its keys' prefix (before the ":").
BatchWriter = Callable[[int, str, str, datetime], EmailMessage | None]


def batch_prefix(batch_key: str) -> str:
    return batch_key.partition(":")[0]


def rewrite(message_id: int, message: EmailMessage) -> None:
    """Put the batch's message, written when it is due, in its outbox row."""
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
        .values(sender=envelope_sender(message["From"]), recipient=message["To"],
                message=message.as_string())
        .execution_options(synchronize_session=False))


def erase_batches(batch_keys: list[str]) -> None:
    """Messages of these batches not yet sent are not sent."""
    if batch_keys:
        db.session.execute(
            sa.delete(OutboxMessage).where(OutboxMessage.batch_key.in_(batch_keys))
            .execution_options(synchronize_session=False))


def _of_kind(kind: OutboxKind | None) -> sa.ColumnElement[bool]:
    """Messages of one kind (a deliverer's lane), or of any."""
    return OutboxMessage.kind == kind if kind is not None else sa.true()


def _claimable(now: datetime, kind: OutboxKind | None = None) -> sa.ColumnElement[bool]:
    return sa.and_(
        OutboxMessage.status == OutboxStatus.QUEUED,
        _of_kind(kind),
        OutboxMessage.next_attempt_at <= now,
        sa.or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at <= now - CLAIM_LEASE),
    )


def anything_due(now: datetime, kind: OutboxKind | None = None) -> bool:
    """Whether a message (of a kind) waits for delivery now (a read only: no lock is taken)."""
    first = db.session.scalar(sa.select(OutboxMessage.id).where(_claimable(now, kind)).limit(1))
    return first is not None


@dataclass(frozen=True)
class Claimed:
    """A message this deliverer claimed, detached from the session (commits expire rows)."""

    id: int
    claim: str
    kind: OutboxKind
    sender: str
    recipient: str
    message: str
    attempts: int
    batch_key: str | None = None


def claim_due(*, now: datetime, limit: int = BATCH,
              kind: OutboxKind | None = None) -> list[Claimed]:
    """Claim up to `limit` due messages (of one kind, or any) for this caller, oldest first;
    the caller commits the claim before sending. The UPDATE re-checks that each message is
    unclaimed, so of two deliverers racing for one message only one gets it; on PostgreSQL
    they also skip each other's locked rows instead of waiting for them."""
    claim = uuid.uuid4().hex
    candidates = (
        sa.select(OutboxMessage.id)
        .where(_claimable(now, kind))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()), _claimable(now, kind))
        .values(claimed_at=now, claimed_by=claim)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.sender,
                  OutboxMessage.recipient, OutboxMessage.message, OutboxMessage.attempts,
                  OutboxMessage.batch_key)
        .where(OutboxMessage.claimed_by == claim)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    )
    return [Claimed(row.id, claim, row.kind, row.sender, row.recipient, row.message,
                    row.attempts, row.batch_key) for row in rows]


def record_sent(message: Claimed) -> None:
    """Delivered: the message leaves the outbox (with the link tokens in it)."""
    db.session.execute(
        sa.delete(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.claim)
        .execution_options(synchronize_session=False)
    )


def renew_claims(claim: str, *, now: datetime) -> None:
    """Still at work on them: the claim's messages stay this deliverer's for another lease."""
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.claimed_by == claim)
        .values(claimed_at=now).execution_options(synchronize_session=False)
    )


def release_claims(claim: str) -> None:
    """Stopping: the claim's unsent messages are free for another deliverer at once, without
    counting as an attempt."""
    released = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.claimed_by == claim)
        .values(claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    ).rowcount
    if released:
        notify_deliverers()


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)


def record_failure(message: Claimed, error: str, *, permanent: bool, now: datetime) -> None:
    """Not delivered: free the claim and try again later, or keep it as failed for good."""
    attempts = message.attempts + 1
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.claim)
        .values(
            attempts=attempts,
            status=OutboxStatus.FAILED if permanent else OutboxStatus.QUEUED,
            next_attempt_at=now + retry_delay(attempts),
            claimed_at=None,
            claimed_by=None,
            last_error=error[:500],
        )
        .execution_options(synchronize_session=False)
    )


def next_attempt_at(kind: OutboxKind | None = None) -> datetime | None:
    """When a queued message can next be claimed (None: nothing is queued): its next attempt,
    or for a message another deliverer holds, when that claim's lease runs out. (Taking only
    the next attempt would make a deliverer wake again and again for a message in the hands of
    another.)"""
    queued = sa.and_(OutboxMessage.status == OutboxStatus.QUEUED,
                     _of_kind(kind))
    free = db.session.scalar(sa.select(sa.func.min(OutboxMessage.next_attempt_at))
                             .where(queued, OutboxMessage.claimed_at.is_(None)))
    held = db.session.scalar(sa.select(sa.func.min(OutboxMessage.claimed_at))
                             .where(queued, OutboxMessage.claimed_at.is_not(None)))
    moments = [free, held + CLAIM_LEASE if held else None]
    return min((moment for moment in moments if moment), default=None)


def counts() -> dict[str, int]:
    """Messages in the outbox by status."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    found = {status.value: count for status, count in rows}
    return {status.value: found.get(status.value, 0) for status in OutboxStatus}


def erase_for_subscriber(subscriber_id: int) -> None:
    """Every message about a subscriber, sent or not: part of erasing them."""
    db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.subscriber_id == subscriber_id)
        .execution_options(synchronize_session=False)
    )


def retry_failed(*, now: datetime, since: datetime | None = None) -> int:
    """Queue again the messages refused for good (those queued since a moment, or all), for
    an attempt now with a fresh back-off: after the operator fixed what made them fail. How
    many were queued again."""
    failed = [OutboxMessage.status == OutboxStatus.FAILED]
    if since is not None:
        failed.append(OutboxMessage.created_at >= since)
    requeued = db.session.execute(
        sa.update(OutboxMessage).where(*failed)
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now,
                claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False, preserve_rowcount=True)).rowcount
    if requeued:
        db.session.info[MAIL_WAITING] = True
        notify_deliverers()
    return requeued


def purge_batch_keys(before: datetime) -> int:
    """Forget the batch keys untouched since a moment. A key's row only keeps two requests
    from opening two messages of one batch at once; the next news of that batch makes it
    again."""
    return delete_where(db.session, OutboxBatch, OutboxBatch.touched_at < before)


def purge_failed(before: datetime) -> int:
    """Drop messages the mail server refused for good before a moment: kept until then for
    the operator to look at (`outbox status`), not for ever."""
    return delete_where(db.session, OutboxMessage, OutboxMessage.status == OutboxStatus.FAILED,
                        OutboxMessage.created_at < before)
