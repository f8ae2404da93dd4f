"""A reader's vote on a comment. The tallies readers see live on the comment row itself
(`upvotes`, `downvotes`, `vote_score`), changed in the same transaction as the vote."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db


class Vote(db.Model):
    """The vote of one reader (the keyed client hash shares use) on one comment: 1 or -1; a
    withdrawn vote is deleted."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.CheckConstraint("value IN (-1, 1)", name="value_is_up_or_down"),
        # A reader's own votes on an article: one indexed read for the widget.
        sa.Index("ix_votes_reader", "client_hash", "article_id"),
    )

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    client_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(sa.SmallInteger)
    voted_at: Mapped[datetime]
