"""Article rules: finding or recording an article, and whether its comments are open now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.database import insert_if_absent
from engagement.errors import NotFound
from engagement.extensions import db


@dataclass(frozen=True)
class ArticlePolicy:
    auto_create: bool
    close_after_days: int

    @classmethod
    def from_config(cls, config) -> ArticlePolicy:
        return cls(config["ARTICLES_AUTO_CREATE"], config["COMMENTS_CLOSE_AFTER_DAYS"])


def find_article(article_id: str, policy: ArticlePolicy, now: datetime) -> Article:
    """The article, recording it on first sight when auto-create is on; NotFound otherwise."""
    article = db.session.get(Article, article_id)
    if article is not None:
        return article
    if not policy.auto_create:
        raise NotFound("No such article.")
    # Concurrent first sightings are settled by the primary key, not by this process.
    insert_if_absent(db.session, Article, {"id": article_id, "first_seen_at": now})
    return db.session.get(Article, article_id)


def article_known(article_id: str, policy: ArticlePolicy) -> bool:
    """Whether reads about the article may answer: it was seen, or auto-create is on."""
    return policy.auto_create or db.session.get(Article, article_id) is not None


def unseen_article(article_id: str, now: datetime) -> Article:
    """What an article never seen looks like, without recording it."""
    return Article(id=article_id, first_seen_at=now)


def articles_by_id(article_ids: Iterable[str]) -> dict[str, Article]:
    rows = db.session.scalars(sa.select(Article).where(Article.id.in_(list(article_ids))))
    return {article.id: article for article in rows}


def comments_are_open(article: Article, policy: ArticlePolicy, now: datetime) -> bool:
    """Open unless a moderator closed them, the close date passed, or the article is older than
    the close-after-days setting; a moderator's explicit "open" outranks both dates."""
    if article.comments_open_by_moderator is not None:
        return article.comments_open_by_moderator
    if article.comments_close_at is not None and now >= article.comments_close_at:
        return False
    if policy.close_after_days:
        born = article.published_at or article.first_seen_at or now
        if now >= born + timedelta(days=policy.close_after_days):
            return False
    return True
