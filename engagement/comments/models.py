"""The comment row and its states."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.database import enum_column
from engagement.extensions import db

# Deleted top-level comments: the only ones that may stay in a thread as placeholders.
_DELETED_TOPS = sa.text("thread_id IS NULL AND deleted_at IS NOT NULL")


class CommentStatus(enum.StrEnum):
    PENDING = "pending"  # held for a moderator
    APPROVED = "approved"  # public
    REJECTED = "rejected"
    SPAM = "spam"
    FLAGGED = "flagged"  # hidden by reader flags until a moderator decides


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # The public list: an article's approved top-level comments, pinned first, by id.
        sa.Index("ix_comments_listing", "article_id", "status", "thread_id", "pinned", "id"),
        # The same list best first (order=best).
        sa.Index("ix_comments_best", "article_id", "status", "thread_id", "pinned", "vote_score",
                 "id"),
        # Time windows: What's Hot and the address retention job scan comments by age.
        sa.Index("ix_comments_recent", "created_at", "article_id"),
        # Few per article: a thread's total counts its placeholders without reading the rest.
        sa.Index("ix_comments_deleted_tops", "article_id", sqlite_where=_DELETED_TOPS,
                 postgresql_where=_DELETED_TOPS),
        sa.CheckConstraint("depth >= 0", name="depth_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    # The comment this one is listed under (after the depth cap), and the top-level comment
    # of its thread: one query fetches every reply of a page's threads.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"))
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    depth: Mapped[int] = mapped_column(default=0)

    status: Mapped[CommentStatus] = enum_column(CommentStatus, "comment_status")
    # Why moderation holds it: "mode", "first_time", "links", "blocked_word", "honeypot", ...
    held_for: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    author_name: Mapped[str] = mapped_column(sa.String(80))
    author_email: Mapped[str] = mapped_column(sa.String(320), index=True)  # normalised
    author_website: Mapped[str | None] = mapped_column(sa.String(2000))
    avatar: Mapped[str] = mapped_column(sa.String(64))  # keyed hash of the email

    body: Mapped[str] = mapped_column(sa.Text)  # Markdown as written
    body_html: Mapped[str] = mapped_column(sa.Text)  # rendered and sanitised once, at write

    pinned: Mapped[bool] = mapped_column(default=False)
    # Readers' flags so far, counted in place so that concurrent flags cannot miss the threshold.
    flag_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # A moderator approved this text: readers' flags then need the larger threshold
    # (ENGAGEMENT_FLAG_THRESHOLD_APPROVED) to hide it again. An edit is a new, unvouched text.
    approved_by_moderator: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Readers' votes, tallied in place as each vote is cast, and the lower bound of the Wilson
    # score interval of those tallies (what order=best sorts by), kept with them.
    upvotes: Mapped[int] = mapped_column(default=0, server_default="0")
    downvotes: Mapped[int] = mapped_column(default=0, server_default="0")
    vote_score: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # When its publication was announced (reply emails): once, whatever happens to it later.
    announced_at: Mapped[datetime | None]

    edit_token_hash: Mapped[str] = mapped_column(sa.String(64))
    client_ip: Mapped[str | None] = mapped_column(sa.String(45))

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None
