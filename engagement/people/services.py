"""People's data: everything stored about one email address, exported as JSON or erased.

What an address is linked to: the comments it signed, its newsletter subscription with the
consent record, its reply-email subscriptions, mail queued to it, the moderation webhook's
queued events that show its comments, and what was done from the
client addresses those comments came from while they are kept (flags, keyed by a hash of the
address). Votes and shares are keyed by a hash of address and browser, which nothing links
back to a person: they hold no email and cannot be found from one. Bans are moderators'
decisions about an address and are kept (a ban that erasure lifted would be a way around it)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engagement.admin.services import audit
from engagement.alerts.services import webhook_events_about
from engagement.comments.models import Comment
from engagement.comments.services import decide_comments, erase_text, forget_author
from engagement.extensions import db
from engagement.mail.models import OutboxMessage
from engagement.moderation.models import Flag
from engagement.moderation.services import flagger_hash
from engagement.newsletter.models import Subscriber
from engagement.newsletter.services import erase_subscriber
from engagement.notifications.services import address_record, erase_address


def _same_address(column, email: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(column) == email.strip().lower()


def _comments(email: str) -> list[Comment]:
    return db.session.scalars(
        sa.select(Comment).where(_same_address(Comment.author_email, email)).order_by(Comment.id)
    ).all()


def _flag_hashes(comments: list[Comment]) -> set[str]:
    return {flagger_hash(comment.client_ip) for comment in comments if comment.client_ip}


def _subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(sa.select(Subscriber).where(_same_address(Subscriber.email, email)))


def export_person(email: str, *, actor: str, now: datetime) -> dict[str, Any]:
    """Every record of the address, as plain JSON values. The audit entry counts what was
    exported, as the erasure's does, and never names the address."""
    comments = _comments(email)
    flags = db.session.scalars(
        sa.select(Flag).where(Flag.client_hash.in_(_flag_hashes(comments)))).all()
    subscriber = _subscriber(email)
    queued = [*db.session.scalars(
        sa.select(OutboxMessage).where(_same_address(OutboxMessage.recipient, email))
        .order_by(OutboxMessage.id)).all(),
        *webhook_events_about([comment.id for comment in comments])]
    replies = address_record(email)
    audit(actor, "people.export", "person", {
        "comments": len(comments), "flags": len(flags), "newsletter": int(subscriber is not None),
        "queued_mail": len(queued), "reply_notifications": int(replies is not None),
    }, now=now)
    db.session.flush()
    return {
        "email": email,
        "comments": [{
            "id": comment.id, "article_id": comment.article_id, "parent_id": comment.parent_id,
            "status": comment.status.value, "author_name": comment.author_name,
            "author_website": comment.author_website, "body": comment.body,
            "created_at": _time(comment.created_at), "edited_at": _time(comment.edited_at),
            "deleted_at": _time(comment.deleted_at), "client_ip": comment.client_ip,
        } for comment in comments],
        "flags": [{"comment_id": flag.comment_id, "reason": flag.reason.value, "note": flag.note,
                   "created_at": _time(flag.created_at)} for flag in flags],
        "newsletter": None if subscriber is None else {
            "status": subscriber.status.value, "name": subscriber.name,
            "source": subscriber.source, "consent_version": subscriber.consent_version,
            "signed_up_at": _time(subscriber.signed_up_at),
            "confirmed_at": _time(subscriber.confirmed_at),
            "unsubscribed_at": _time(subscriber.unsubscribed_at),
            "user_agent": subscriber.user_agent,
            "client_hash": subscriber.client_hash,  # of the address, keyed: never the address
        },
        "reply_notifications": _times(replies),
        "queued_mail": [{"created_at": _time(message.created_at), "kind": message.kind.value,
                         "status": message.status.value} for message in queued],
    }


def erase_person(email: str, *, with_comments: bool, actor: str, now: datetime) -> dict[str, int]:
    """Remove the address everywhere. Comments keep their text under ERASED_AUTHOR unless
    `with_comments`, which deletes their text too (a comment with replies stays a placeholder).
    The audit entry counts what went, and never names the address."""
    comments = _comments(email)
    # Before the comments are erased: the events show them as they were.
    events = [event.id for event in webhook_events_about([comment.id for comment in comments])]
    flags = _erase_flags(_flag_hashes(comments))

    def erase(comment: Comment) -> None:
        if with_comments and not comment.deleted:
            erase_text(comment, now)
        forget_author(comment)

    if comments:  # one decision for them all: each article locked and versioned once
        decide_comments(comments, erase)
    mail = db.session.execute(
        sa.delete(OutboxMessage).where(sa.or_(_same_address(OutboxMessage.recipient, email),
                                              OutboxMessage.id.in_(events)))
        .execution_options(synchronize_session=False)).rowcount
    subscriber = _subscriber(email)
    if subscriber is not None:
        erase_subscriber(subscriber.id, actor=actor, now=now)
    erased = {"comments": len(comments), "flags": flags,
              "newsletter": int(subscriber is not None), "queued_mail": mail,
              "reply_notifications": erase_address(email)}
    audit(actor, "people.erase", "person", {**erased, "with_comments": with_comments}, now=now)
    db.session.flush()
    return erased


def _erase_flags(client_hashes: set[str]) -> int:
    """Delete the flags made from these addresses and take each off its comment's flag_count,
    which count_flag keeps in the row and the threshold reads; the number deleted."""
    flagged = Counter(db.session.scalars(
        sa.delete(Flag).where(Flag.client_hash.in_(client_hashes)).returning(Flag.comment_id)
        .execution_options(synchronize_session=False)).all())
    by_number: dict[int, list[int]] = {}
    for comment_id, number in flagged.items():
        by_number.setdefault(number, []).append(comment_id)
    for number, comment_ids in by_number.items():  # one UPDATE per number of flags taken
        db.session.execute(
            sa.update(Comment).where(Comment.id.in_(comment_ids))
            .values(flag_count=sa.case((Comment.flag_count > number,
                                        Comment.flag_count - number), else_=0))
            .execution_options(synchronize_session=False))
    return flagged.total()


def _times(record: Any) -> Any:
    """A record with its datetimes as JSON timestamps, however deep."""
    if isinstance(record, dict):
        return {key: _times(value) for key, value in record.items()}
    if isinstance(record, list):
        return [_times(value) for value in record]
    return _time(record) if isinstance(record, datetime) else record


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
