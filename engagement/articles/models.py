"""The article row: what the site told us of it, and what decides whether comments are open."""

from __future__ import annotations

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
