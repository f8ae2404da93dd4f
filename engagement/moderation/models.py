"""Moderation settings (one row, changed at run time) and readers' flags."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.database import enum_column
from engagement.extensions import db


class ModerationSettings(db.Model):
    """The live moderation settings; the row is made from ENGAGEMENT_* config on first use."""

    __tablename__ = "moderation_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    moderation_mode: Mapped[str] = mapped_column(sa.String(16))
    max_links: Mapped[int]
    blocked_words: Mapped[list[str]] = mapped_column(sa.JSON)
    flag_threshold: Mapped[int]
    updated_at: Mapped[datetime]


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Flag(db.Model):
    """One client's flag on one comment; the key makes a repeat a no-op."""

    __tablename__ = "flags"

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    client_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[FlagReason] = enum_column(FlagReason, "flag_reason")
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]


class BanKind(enum.StrEnum):
    EMAIL = "email"  # an author email, lower-cased
    IP = "ip"  # a network in CIDR form; a single address is a /32 or a /128


class Ban(db.Model):
    """A moderator's ban on an author email or a client network; none once `expires_at` passed."""

    __tablename__ = "bans"
    # SQLite would give a deleted ban's id to the next one (a stale "Lift ban" lifts it).
    __table_args__ = (sa.Index("ix_bans_kind_value", "kind", "value"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BanKind] = enum_column(BanKind, "ban_kind", length=8)
    value: Mapped[str] = mapped_column(sa.String(320))  # normalised (services.ban_value)
    reason: Mapped[str] = mapped_column(sa.String(500))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(80))  # the token holder's name
