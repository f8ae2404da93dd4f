"""Who wants reply emails: an address (confirmed once, by double opt-in), its subscriptions to
replies to one comment each, and the tokens of the emailed links. The replies a waiting
batch email lists are the outbox's batched comments."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.database import enum_column
from engagement.extensions import db


class NotifyAddress(db.Model):
    """An address that asked for reply emails. Confirmed once; "stop all" un-confirms it, so
    that asking again needs a new confirmation."""

    __tablename__ = "notify_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)  # as comments store it
    lang: Mapped[str] = mapped_column(sa.String(8), default="en")  # of its emails
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    confirmation_sent_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    # A keyed hash of the home network (clients.home_network) the confirmation button was last
    # pressed from: whoever reads this mailbox was there. first_time moderation trusts the
    # address's regular from that network as from those of their approved comments.
    verified_network: Mapped[str | None] = mapped_column(sa.String(64))


class ReplySubscription(db.Model):
    """An address's wish to hear of replies to one comment (its thread)."""

    __tablename__ = "reply_subscriptions"
    __table_args__ = (sa.UniqueConstraint("comment_id", "address_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notify_addresses.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]  # unsubscribed from this thread


class NotifyTokenPurpose(enum.StrEnum):
    CONFIRM = "confirm"  # confirms the address
    UNSUBSCRIBE = "unsubscribe"  # stops one subscription, or with scope=all every one


class NotifyToken(db.Model):
    """A link's token, stored hashed. An unsubscribe token is made for each email and stays
    good for ENGAGEMENT_UNSUBSCRIBE_TOKEN_TTL_DAYS after it; one in an email still waiting to
    be sent is replaced when the email is composed again (`outbox_id`)."""

    __tablename__ = "notify_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    purpose: Mapped[NotifyTokenPurpose] = enum_column(NotifyTokenPurpose, "notify_token_purpose")
    address_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notify_addresses.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reply_subscriptions.id", ondelete="CASCADE"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mail_outbox.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
