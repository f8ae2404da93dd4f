"""The counters kept on each article row (`comment_count`, `top_level_count`, `share_count`)
checked against a
recount of what they count, and repaired. Writes keep them with atomic increments
(`bump_article_version`); this is the operators' check that nothing drifted. Functions flush;
the command commits."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engagement.articles.models import Article, next_version
from engagement.comments.models import Comment, CommentStatus
from engagement.comments.services import shown_counts
from engagement.extensions import db
from engagement.shares.models import ShareTally


@dataclass(frozen=True)
class CounterDifference:
    article_id: str
    stored_comments: int
    counted_comments: int
    stored_top_level: int
    counted_top_level: int
    stored_shares: int
    counted_shares: int


def _top_level_counted():
    return sa.select(sa.func.count()).where(
        Comment.article_id == Article.id, Comment.status == CommentStatus.APPROVED,
        Comment.deleted_at.is_(None), Comment.thread_id.is_(None)).scalar_subquery()


def _shares_counted():
    return (
        sa.select(sa.func.coalesce(sa.func.sum(ShareTally.count), 0))
        .where(ShareTally.article_id == Article.id)
        .scalar_subquery()
    )


def counter_differences() -> list[CounterDifference]:
    """Every article whose stored counters differ from a recount, by id."""
    shown = shown_counts(sa.true())
    comments = sa.func.coalesce(shown.c.shown, 0)
    tops, shares = _top_level_counted(), _shares_counted()
    rows = db.session.execute(
        sa.select(Article.id, Article.comment_count, comments, Article.top_level_count, tops,
                  Article.share_count, shares)
        .outerjoin(shown, shown.c.article_id == Article.id)
        .where(sa.or_(Article.comment_count != comments, Article.top_level_count != tops,
                      Article.share_count != shares))
        .order_by(Article.id)
    )
    return [CounterDifference(*row) for row in rows]


def recount(article_id: str) -> None:
    """Set an article's counters to a recount, and bump its version (its answers change).
    The row is locked first: a write that has not committed yet adds its increment after
    this, and one that has committed is in the recount, so none is lost or counted twice."""
    db.session.execute(sa.select(Article.id).where(Article.id == article_id).with_for_update())
    shown = shown_counts(Comment.article_id == article_id)
    db.session.execute(
        sa.update(Article)
        .where(Article.id == article_id)
        .values(comment_count=sa.func.coalesce(sa.select(shown.c.shown).scalar_subquery(), 0),
                top_level_count=_top_level_counted(),
                share_count=_shares_counted(),
                version=next_version(Article.version),
                share_version=next_version(Article.share_version))
        .execution_options(synchronize_session=False)
    )
