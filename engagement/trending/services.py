"""The ranking: comments and shares inside a window, added up per article in one query."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.comments.services import comment_activity
from engagement.extensions import db
from engagement.shares.services import share_activity

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
# A comment takes more of a reader than a click on a share button.
COMMENT_WEIGHT = 3
SHARE_WEIGHT = 1


def trending(window: str, by: str, limit: int, *, now: datetime,
             id_pattern: re.Pattern | None = None) -> list[sa.Row]:
    """The `limit` articles with the highest score among those with any activity in the window:
    comments, shares, or `engagement` (3 per comment plus 1 per share); ties go to the
    article with more activity of both kinds together, then by id.

    Only articles the site registered are listed: those with a title (the admin API, an
    import), and those whose id is of the site's own form (`id_pattern`). An id anyone can
    make up by sharing it never reaches the list. Each row is a TrendingItem: id, title,
    url, comments, shares and score."""
    since = now - WINDOWS[window]
    activity = sa.union_all(comment_activity(since), share_activity(since)).subquery()
    comments = sa.func.sum(activity.c.comments)
    shares = sa.func.sum(activity.c.shares)
    score = {
        "comments": comments,
        "shares": shares,
        "engagement": COMMENT_WEIGHT * comments + SHARE_WEIGHT * shares,
    }[by]
    query = (
        sa.select(Article.id, Article.title, Article.url, comments.label("comments"),
                  shares.label("shares"), score.label("score"))
        .join(activity, activity.c.article_id == Article.id)
        .where(Article.title.is_not(None) if id_pattern is None else sa.true())
        .group_by(Article.id, Article.title, Article.url)
        .having(score > 0)
        .order_by(score.desc(), (comments + shares).desc(), Article.id)
    )
    if id_pattern is None:
        query = query.limit(limit)
    rows = db.session.execute(query)
    items = (row for row in rows if row.title is not None or id_pattern.fullmatch(row.id))
    listed = list(itertools.islice(items, limit))
    rows.close()
    return listed
