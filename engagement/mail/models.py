"""The outbox: messages waiting to be delivered. A delivered message is deleted."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt (or being sent, while claimed)
    FAILED = "failed"  # refused for good by the mail server; kept for the operator


class OutboxMessage(db.Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The subscriber a message is about: erasing them erases their mail too.
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(sa.String(320))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    message: Mapped[str] = mapped_column(sa.Text)  # the whole RFC 5322 message
    status: Mapped[OutboxStatus] = mapped_column(
        sa.Enum(OutboxStatus, name="outbox_status", native_enum=False, create_constraint=True,
                length=16, values_callable=lambda statuses: [s.value for s in statuses])
    )
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A deliverer's claim: others leave the message alone until the claim is older than the
    # lease (the claimer died mid-send).
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
