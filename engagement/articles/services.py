"""Article rules: finding or recording an article, whether its comments are open now, and the
moderators' tools (the list, setting an article up, opening and closing its comments).
Functions flush; the route commits."""

from __future__ import annotations

import functools
import hashlib
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from engagement.admin.services import audit
from engagement.articles.models import Article, next_version
from engagement.database import (
    UTCDateTime,
    from_driver,
    insert_if_absent,
    kept_while_unchanged,
    read_rows,
    read_value,
)
from engagement.errors import NotFound
from engagement.extensions import db
from engagement.fields import RowView
from engagement.http import article_id_from
from engagement.pagination import MomentKey, Pager, TextKey


@dataclass(frozen=True)
class ArticlePolicy:
    auto_create: bool
    close_after_days: int
    # Ids that auto-create may record (the site's own form of article id); None: any slug.
    id_pattern: re.Pattern | None = None

    @classmethod
    def from_config(cls, config) -> ArticlePolicy:
        pattern = config["ARTICLE_ID_PATTERN"]
        return cls(config["ARTICLES_AUTO_CREATE"], config["COMMENTS_CLOSE_AFTER_DAYS"],
                   re.compile(pattern) if pattern else None)

    def may_create(self, article_id: str) -> bool:
        return self.auto_create and (
            self.id_pattern is None or self.id_pattern.fullmatch(article_id) is not None)


def find_article(article_id: str, policy: ArticlePolicy, now: datetime) -> Article:
    """The article a write is about, recording it on first sight when auto-create is on;
    NotFound otherwise. Reads use `readable_article`, which records nothing."""
    article = db.session.get(Article, article_id)
    if article is not None:
        return article
    record_article(db.session.connection(), article_id, policy, now)
    return db.session.get(Article, article_id)


def record_article(connection: sa.Connection, article_id: str, policy: ArticlePolicy,
                   now: datetime) -> None:
    """Record an article not yet recorded, in the caller's transaction, when auto-create is
    on; NotFound otherwise (a write that reads no row of it: a share's)."""
    if not policy.may_create(article_id):
        raise NotFound("No such article.")
    # Concurrent first sightings are settled by the primary key, not by this process.
    insert_if_absent(connection, Article, {"id": article_id, "first_seen_at": now})


def readable_article(article_id: str, policy: ArticlePolicy, now: datetime) -> Article:
    """The article a read is about: the stored row, or (when auto-create would record it)
    what an article never seen looks like, without recording it. The first write records it."""
    return db.session.get(Article, article_id) or _unseen_readable(article_id, policy, now)


def _unseen_readable(article_id: str, policy: ArticlePolicy, now: datetime) -> Article:
    """An article never seen, where auto-create would record it; NotFound otherwise."""
    if not policy.may_create(article_id):
        raise NotFound("No such article.")
    return unseen_article(article_id, policy, now)


# What a public answer depends on besides its content: the version, and whether comments are
# open now (a close date passes without a write), decided by the database with the clause that
# lists articles by it (`comments_open_clause`): no dates to read back. Built once per setting
# of close-after-days, run on a connection of its own: a cached answer never starts an ORM
# session.
@functools.cache
def _answer_states_query(close_after_days: int, *, one: bool) -> sa.Select:
    now, born_after = (sa.bindparam("now", type_=UTCDateTime),
                       sa.bindparam("born_after", type_=UTCDateTime))
    query = sa.select(Article.id, Article.version, Article.share_version,
                      _open_clause(close_after_days, now, born_after))
    if one:
        return query.where(Article.id == sa.bindparam("article_id"))
    # And, in every row, the earliest of the rows' moments ahead (_changes_ahead).
    ahead = [sa.func.min(moment).over() for moment in _changes_ahead(close_after_days, now,
                                                                      born_after)]
    return query.add_columns(*ahead).where(
        Article.id.in_(sa.bindparam("article_ids", expanding=True)))


def _answer_states_run(policy: ArticlePolicy, now: datetime, **ids) -> list[tuple]:
    query = _answer_states_query(policy.close_after_days, one="article_id" in ids)
    return read_rows(db.engine, query, {
        "now": now, "born_after": now - timedelta(days=policy.close_after_days), **ids})


class AnswerState(NamedTuple):
    """What an article's own answers (the article, /counts) depend on besides their content."""

    version: int
    share_version: int
    comments_open: bool


def answer_states_digest(article_ids: Iterable[str], policy: ArticlePolicy,
                         now: datetime) -> str:
    """The validator of the answers of several articles together (/counts): a digest of their
    states in one order. On SQLite it is kept while nothing is written to the database and
    no article's comments open or close by the time (database.kept_while_unchanged): a
    listing's counts, asked by every reader of the page, then read nothing but that."""
    articles = tuple(sorted(set(article_ids)))
    return kept_while_unchanged(db.engine, ("answer states", policy, articles), now,
                                lambda: _answer_states_digest(articles, policy, now))


def _answer_states_digest(articles: tuple[str, ...], policy: ArticlePolicy,
                          now: datetime) -> tuple[str, datetime | None]:
    # The states packed as 64-bit numbers: repr() of a hundred cost more than reading them.
    states, until = answer_states(articles, policy, now)
    numbers = array("q", [number for article in articles for number in states[article]])
    return hashlib.sha256(numbers.tobytes()).hexdigest()[:24], until


def answer_states(article_ids: Iterable[str], policy: ArticlePolicy,
                  now: datetime) -> tuple[dict[str, tuple[int, int, int]], datetime | None]:
    """The state of each article as numbers, (version, share_version, 1 when its comments are
    open now else 0), in one query (no AnswerState is made for each: that cost more than the
    query), and the first moment after `now` when one of them may open or close without a
    write (None: none will). An article never seen has versions 0, and its comments are open
    or closed as a new article's would be: first seen now, at any time, until a write records
    it."""
    article_ids = list(article_ids)
    rows = _answer_states_run(policy, now, article_ids=article_ids)
    states = {row[0]: (row[1], row[2], int(row[3])) for row in rows}
    for article_id in article_ids:
        if article_id not in states:
            unseen = _unseen_state(unseen_article(article_id, policy, now), policy, now)
            states[article_id] = (unseen.version, unseen.share_version,
                                  int(unseen.comments_open))
    return states, _first_change(rows[0][4:] if rows else (), policy)


def _first_change(moments: tuple, policy: ArticlePolicy) -> datetime | None:
    """The first change the moments of _changes_ahead (as the driver read them) foretell: the
    close date itself, close-after-days after the birth."""
    changes = []
    for moment, days in zip(moments, (0, policy.close_after_days), strict=False):
        if moment is not None:
            try:
                changes.append(from_driver(db.engine, Article.comments_close_at.type, moment)
                               + timedelta(days=days))
            except OverflowError:  # after year 9999: never
                pass
    return min(changes, default=None)


def answer_state(article_id: str, policy: ArticlePolicy, now: datetime) -> AnswerState:
    """What one readable article's answer depends on: NotFound where a read would be."""
    for _, version, share_version, comments_open in _answer_states_run(
            policy, now, article_id=article_id):
        return AnswerState(version, share_version, bool(comments_open))
    return _unseen_state(_unseen_readable(article_id, policy, now), policy, now)


def _unseen_state(unseen: Article, policy: ArticlePolicy, now: datetime) -> AnswerState:
    return AnswerState(unseen.version, unseen.share_version,
                       comments_are_open(unseen, policy, now))


_THREAD_VERSION = sa.select(Article.version).where(Article.id == sa.bindparam("article_id"))


def thread_version(article_id: str, policy: ArticlePolicy, now: datetime) -> int:
    """The version a readable article's thread pages depend on (NotFound where a read would
    be): the validator of the most asked answer of all, which shows neither shares nor whether
    comments are open, so it reads one column."""
    version = read_value(db.engine, _THREAD_VERSION, {"article_id": article_id})
    if version is None:
        return _unseen_readable(article_id, policy, now).version
    return version


def bump_article_version(article_id: str, *, comments: int = 0, top_level: int = 0,
                         shares: int = 0) -> None:
    """Say, in the caller's transaction, that the article's public answers changed, so that
    ETags and cached answers of the old versions are no longer used: a share moves
    `share_version` (the article and its /counts change, not its thread), any other write
    `version` (`next_version`). The counters move by the deltas (`top_level`: the part of
    `comments` that is top-level). Every write that changes what readers see of an article
    calls this. One atomic UPDATE: concurrent writers queue on the row and no increment is
    lost."""
    db.session.flush()  # pending changes first, as an ORM UPDATE would
    db.session.execute(bump_statement(share=shares != 0), {
        "article_id": article_id, "comments": comments, "top_level": top_level,
        "shares": shares})
    forget_loaded_counters(article_id)


_articles = Article.__table__


@functools.cache
def bump_statement(*, share: bool) -> sa.Update:
    """bump_article_version's UPDATE (of a share's versions, or of another write's), also for
    a statement that bumps the article within itself (a share's, on PostgreSQL): parameters
    `article_id` and the deltas `comments`, `top_level` and `shares`. Call
    forget_loaded_counters after running it. Built once, on the table: every write runs it,
    and building it (or running a statement on the mapped class, through the ORM) cost a share
    more CPU than the rest of its statements."""
    bumped = "share_version" if share else "version"
    return (
        sa.update(_articles)
        .where(_articles.c.id == sa.bindparam("article_id"))
        .values({bumped: next_version(_articles.c[bumped]),
                 "comment_count": _articles.c.comment_count + sa.bindparam("comments"),
                 "top_level_count": _articles.c.top_level_count + sa.bindparam("top_level"),
                 "share_count": _articles.c.share_count + sa.bindparam("shares")})
    )


def forget_loaded_counters(article_id: str) -> None:
    """After a bump: the article's versions and counters, if the session holds its row, are
    read again when next used (as synchronize_session="fetch" would)."""
    if not db.session.registry.has():
        return  # no session in this context (a share answered before Flask): nothing loaded
    loaded = db.session.identity_map.get(db.session.identity_key(Article, article_id))
    if loaded is not None:
        db.session.expire(loaded, ["version", "share_version", "comment_count",
                                   "top_level_count", "share_count"])


def article_known(article_id: str, policy: ArticlePolicy) -> bool:
    """Whether reads about the article may answer: it was seen, or auto-create is on."""
    return policy.may_create(article_id) or db.session.get(Article, article_id) is not None


def unseen_article(article_id: str, policy: ArticlePolicy, now: datetime) -> Article:
    """What an article never seen looks like, without recording it: version 0, which no
    recorded article has, so its validator changes when it is first recorded. Its comments are
    closed where no comment could record it (auto-create off, or an id the pattern refuses)."""
    return Article(id=article_id, first_seen_at=now, version=0, share_version=0,
                   comment_count=0, top_level_count=0, share_count=0,
                   comments_open_by_moderator=None if policy.may_create(article_id) else False)


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
        # Age against the setting, never born + days: a date near year 9999 has no such sum.
        if now - born >= timedelta(days=policy.close_after_days):
            return False
    return True


def comments_open_clause(policy: ArticlePolicy, now: datetime) -> sa.ColumnElement[bool]:
    """`comments_are_open` as SQL, to list articles by the state readers see: the two must
    agree. Never NULL (first_seen_at is never null), so NOT of it is "closed"."""
    return _open_clause(policy.close_after_days, now,
                        now - timedelta(days=policy.close_after_days))


def _open_clause(close_after_days: int, now, born_after) -> sa.ColumnElement[bool]:
    """The clause with `now` and `born_after` (now less close-after-days) as values or as bound
    parameters: a statement built once takes them at each run."""
    automatic = [sa.or_(Article.comments_close_at.is_(None), Article.comments_close_at > now)]
    if close_after_days:
        born = sa.func.coalesce(Article.published_at, Article.first_seen_at)
        automatic.append(born > born_after)
    return sa.or_(
        Article.comments_open_by_moderator.is_(True),
        sa.and_(Article.comments_open_by_moderator.is_(None), *automatic),
    )


def _changes_ahead(close_after_days: int, now, born_after) -> list[sa.ColumnElement]:
    """When `_open_clause` may next give another answer for a row without a write, as the
    moments that decide it, each NULL when it is not ahead: the close date still to come, and
    the birth (published, else first seen) of an article not yet close-after-days old, which
    closes close-after-days after it. A moderator's choice outranks both: then nothing."""
    automatic = Article.comments_open_by_moderator.is_(None)
    close_at = Article.comments_close_at
    ahead = [sa.case((sa.and_(automatic, close_at > now), close_at))]
    if close_after_days:
        born = sa.func.coalesce(Article.published_at, Article.first_seen_at)
        ahead.append(sa.case((sa.and_(automatic, born > born_after), born)))
    return ahead


# --- Moderators' tools ----------------------------------------------------------------------

# The API's names of what moderators set, and the columns that keep them.
EDITABLE = {
    "title": "title",
    "url": "url",
    "published_at": "published_at",
    "comments_open": "comments_open_by_moderator",
    "comments_close_at": "comments_close_at",
}


def article_page(
    *, comments_open: bool | None, q: str | None = None, limit: int, cursor: list | None,
    policy: ArticlePolicy, now: datetime,
) -> dict[str, Any]:
    """Articles, most recently first seen first (the id breaks ties), optionally only those
    whose comments are open, or closed, now. The cursor holds the last row's (first_seen_at,
    id), so articles first seen while a moderator pages neither repeat nor shift the pages."""
    query = sa.select(Article)
    if comments_open is not None:
        open_now = comments_open_clause(policy, now)
        query = query.where(open_now if comments_open else sa.not_(open_now))
    if q:
        query = query.where(sa.or_(*(
            sa.func.lower(column).contains(q.lower(), autoescape=True)
            for column in (Article.id, Article.title)
        )))
    return ARTICLES_ORDER.page(query, limit, cursor)


ARTICLES_ORDER = Pager(
    MomentKey(Article.first_seen_at, descending=True),
    TextKey(Article.id, descending=True, valid=lambda text: article_id_from(text) == text),
)


def admin_article(article: Article, policy: ArticlePolicy, now: datetime) -> RowView:
    """An article as moderators see it (AdminArticleOut): the row, whose
    `comments_open_by_moderator` is the choice, and whether readers may comment now."""
    return RowView(article, comments_open=comments_are_open(article, policy, now))


def put_article(article_id: str, fields: dict[str, Any], *, actor: str,
                now: datetime) -> tuple[Article, bool]:
    """Record the article with exactly these fields (`comments_open` null hands it to the
    automatic rules); True when it is new. Audited with the fields set or changed."""
    values = {EDITABLE[name]: value for name, value in fields.items()}
    # Concurrent first writers are settled by the primary key: one creates, the others update.
    if insert_if_absent(db.session, Article, {"id": article_id, "first_seen_at": now, **values}):
        audit(actor, "article.create", f"article:{article_id}", _loggable(fields), now=now)
        return db.session.get(Article, article_id), True
    return change_article(article_id, fields, actor=actor, now=now), False


def change_article(article_id: str, changes: dict[str, Any], *, actor: str,
                   now: datetime) -> Article:
    """Change some of an article's fields; an article never seen is NotFound. Audited with the
    fields that changed (a change to what they already were is not a change)."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise NotFound("No such article.")
    changed = {
        name: value for name, value in changes.items()
        if getattr(article, EDITABLE[name]) != value
    }
    for name, value in changed.items():
        setattr(article, EDITABLE[name], value)
    if changed:
        bump_article_version(article_id)
        audit(actor, "article.update", f"article:{article_id}", _loggable(changed), now=now)
    db.session.flush()
    return article


def _loggable(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields as the audit log's JSON keeps them: timestamps as ISO 8601 text."""
    return {
        name: value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        for name, value in fields.items()
    }
