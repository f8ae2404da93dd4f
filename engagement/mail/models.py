"""The outbox: messages waiting to be delivered. A delivered message is deleted."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.database import enum_column
from engagement.extensions import db


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt (or being sent, while claimed)
    FAILED = "failed"  # refused for good by the mail server; kept for the operator


class OutboxKind(enum.StrEnum):
    MAIL = "mail"  # `message` is an RFC 5322 message for `recipient`, sent over SMTP
    WEBHOOK = "webhook"  # `message` is a JSON body POSTed, signed, to the URL in `recipient`


class OutboxMessage(db.Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = enum_column(
        OutboxKind, "outbox_kind", default=OutboxKind.MAIL, server_default=OutboxKind.MAIL.value)
    # The subscriber a message is about: erasing them erases their mail too.
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"), index=True
    )
    # The batch a message gathers (replies to one thread for one reader, held comments for one
    # moderator): while it waits for its first attempt, news of the same batch joins it.
    batch_key: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    sender: Mapped[str] = mapped_column(sa.String(320))
    recipient: Mapped[str] = mapped_column(sa.String(2000))  # an address, or a webhook URL
    message: Mapped[str] = mapped_column(sa.Text)  # the whole RFC 5322 message
    status: Mapped[OutboxStatus] = enum_column(OutboxStatus, "outbox_status")
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A deliverer's claim: others leave the message alone until the claim is older than the
    # lease (the claimer died mid-send).
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


class OutboxBatch(db.Model):
    """One row per batch key: whoever adds news to a batch first takes this row's lock, so
    that two requests never open two messages for one batch."""

    __tablename__ = "outbox_batches"

    batch_key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    touched_at: Mapped[datetime]


class BatchedComment(db.Model):
    """A comment a waiting batch message lists (a reply for its reader, a held or flagged
    comment for a moderator); gone with the message once it is sent."""

    __tablename__ = "outbox_batched_comments"

    outbox_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mail_outbox.id", ondelete="CASCADE"), primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(32))  # why it is listed: reply, held, flagged
