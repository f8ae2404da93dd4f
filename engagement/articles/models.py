"""The article row: what the site told us of it, what decides whether comments are open, and
what its public answers are built from (a version and counters kept at write time)."""

from __future__ import annotations

import time
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db


class Article(db.Model):
    __tablename__ = "articles"
    # The moderators' list: newest first sighting first, the id breaking ties.
    __table_args__ = (sa.Index("ix_articles_listing", "first_seen_at", "id"),)

    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    title: Mapped[str | None] = mapped_column(sa.String(500))
    url: Mapped[str | None] = mapped_column(sa.String(2000))
    published_at: Mapped[datetime | None]
    # When the service first heard of the article: its age when published_at is unknown.
    first_seen_at: Mapped[datetime]
    # A moderator's explicit choice, which outranks the automatic rules; None = automatic.
    comments_open_by_moderator: Mapped[bool | None]
    comments_close_at: Mapped[datetime | None]

    # Bumped in the same transaction by the writes that change the article's public answers:
    # `share_version` by a share, `version` by every other write. They make the validators
    # (ETags) and the keys of cached answers: the thread's pages depend on `version` alone, the
    # article and its /counts on both, so a viral article's shares, by the thousand, leave its
    # thread pages cached. (Shares have the new column, not the thread: the release before this
    # one bumps `version` for every write, so while both run during a rolling upgrade no write
    # goes unseen.) See bump_article_version. Never repeated, even after a restore from a
    # backup (see next_version).
    version: Mapped[int] = mapped_column(sa.BigInteger, default=lambda: next_version_floor(),
                                         server_default="1")
    share_version: Mapped[int] = mapped_column(
        sa.BigInteger, default=lambda: next_version_floor(), server_default="1")
    # Approved, not deleted comments, and counted shares on every network: kept by the writes
    # with atomic increments, checked against a recount by `flask --app engagement counts verify`.
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The same for top-level comments alone: a thread's total without counting its rows.
    top_level_count: Mapped[int] = mapped_column(default=0, server_default="0")
    share_count: Mapped[int] = mapped_column(default=0, server_default="0")


def next_version_floor() -> int:
    """The least version a write may give an article now: the time in microseconds. A database
    restored from a backup (or emptied and imported again) goes on from here, never through
    the versions whose answers caches may still hold."""
    return time.time_ns() // 1000


# Taken when a statement runs, so that a statement built once stays right.
_VERSION_FLOOR = sa.bindparam("version_floor", callable_=next_version_floor, type_=sa.BigInteger)


def next_version(version: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """The next value of a version column, in SQL: one more, and at least
    `next_version_floor()`."""
    return sa.case((version + 1 > _VERSION_FLOOR, version + 1), else_=_VERSION_FLOOR)
