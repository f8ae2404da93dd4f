"""Subscribers with their consent record, and the tokens of the links emailed to them."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.database import enum_column
from engagement.extensions import db


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"  # signed up, confirmation link not used yet
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class TokenPurpose(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"


class Subscriber(db.Model):
    """One address, its state, and the consent record of its current subscription. A new
    address starts with the signup's record; after that only a used confirmation link
    replaces it (with the consent that link was sent for)."""

    __tablename__ = "newsletter_subscribers"
    __table_args__ = {"sqlite_autoincrement": True}  # a deleted subscriber's id is not reused

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)  # normalised
    name: Mapped[str | None] = mapped_column(sa.String(80))
    status: Mapped[SubscriberStatus] = enum_column(SubscriberStatus, "subscriber_status",
                                                   index=True)
    created_at: Mapped[datetime]  # the address's first signup
    updated_at: Mapped[datetime]
    # The last confirmation email queued, for the resend throttle.
    confirmation_sent_at: Mapped[datetime | None]
    # Signups of the address, whoever sent them. Each one adds one: every signup then writes,
    # known address or new, so that none commits faster than another (newsletter/services.py).
    signups: Mapped[int] = mapped_column(default=1, server_default="1")

    # --- The consent record ---
    source: Mapped[str | None] = mapped_column(sa.String(64))  # where the form was
    consent_version: Mapped[str] = mapped_column(sa.String(16))  # the consent text shown
    signed_up_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    client_hash: Mapped[str | None] = mapped_column(sa.String(64))  # keyed hash of the address


class SubscriberToken(db.Model):
    """A token of an emailed link, stored as its SHA-256: random, for one purpose, and
    unrelated to the subscriber's id."""

    __tablename__ = "newsletter_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = enum_column(TokenPurpose, "token_purpose")
    created_at: Mapped[datetime]
    # Confirmation links expire after ENGAGEMENT_CONFIRM_TOKEN_TTL_SECONDS, unsubscribe links
    # after ENGAGEMENT_UNSUBSCRIBE_TOKEN_TTL_DAYS (those made before were given that from their
    # creation by an upgrade; None: a confirmation link made before they expired).
    expires_at: Mapped[datetime | None]

    # --- The consent a confirmation link carries: it replaces the subscriber's record only
    # when the link is used, so a signup in someone else's name changes nothing of theirs.
    name: Mapped[str | None] = mapped_column(sa.String(80))
    source: Mapped[str | None] = mapped_column(sa.String(64))
    consent_version: Mapped[str | None] = mapped_column(sa.String(16))
    signed_up_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    client_hash: Mapped[str | None] = mapped_column(sa.String(64))
