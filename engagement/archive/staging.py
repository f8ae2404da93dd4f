"""What an import read, kept on disk until the whole file has been read.

An export's replies may come before their parents and a Disqus post before its thread, so
nothing is written until the file is read to its end. The records wait in a scratch SQLite
file of their own (not the service's database), from which each article's comments come back
in date order: memory holds one article's comments, never the file (so an import's memory
grows with its largest article)."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime


@dataclass
class SourceArticle:
    key: str  # the source's own id of the post or thread
    line: int
    article_id: str | None  # by the chosen rule; None when the rule gives no valid id
    map_keys: list[str]  # what a --map file may name it by: id, slug, link, path...
    title: str | None
    url: str | None
    published_at: datetime | None
    closed: bool
    # Where its comments' ids are unique, when not across the whole source (a WordPress site
    # and post: every site numbers its comments from 1); None for Disqus, unique throughout.
    scope: str | None = None
    # A problem with the rule's id, told unless --map names the article.
    note: str | None = None
    # The ids other rules give it (--article-id): a run before may have made one of them.
    other_ids: list[str] = field(default_factory=list)


@dataclass
class SourceComment:
    source_id: str
    article_key: str
    line: int
    parent_id: str | None
    created_at: datetime
    status: str  # approved, pending, spam or deleted
    author_name: str
    author_email: str
    author_website: str | None
    client_ip: str | None
    body: str  # HTML as the source stores it


_ARTICLE_COLUMNS = [column.name for column in fields(SourceArticle)]
_COMMENT_COLUMNS = [column.name for column in fields(SourceComment)]


def _to_row(record, columns: list[str]) -> tuple:
    values = (getattr(record, column) for column in columns)
    return tuple(
        json.dumps(value) if isinstance(value, list)
        else value.astimezone(UTC).isoformat() if isinstance(value, datetime)
        else value
        for value in values
    )


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class Staging:
    """A scratch SQLite file, deleted when closed."""

    def __init__(self):
        handle, self.path = tempfile.mkstemp(prefix="engagement-import-", suffix=".sqlite3")
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(f"CREATE TABLE articles ({', '.join(_ARTICLE_COLUMNS)})")
        self.db.execute(f"CREATE TABLE comments ({', '.join(_COMMENT_COLUMNS)})")
        self._articles: list[tuple] = []
        self._comments: list[tuple] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *_exc) -> None:
        self.db.close()
        os.unlink(self.path)

    def add_article(self, article: SourceArticle) -> None:
        self._articles.append(_to_row(article, _ARTICLE_COLUMNS))
        if len(self._articles) >= 1000:
            self.flush()

    def add_comment(self, comment: SourceComment) -> None:
        self._comments.append(_to_row(comment, _COMMENT_COLUMNS))
        if len(self._comments) >= 1000:
            self.flush()

    def flush(self) -> None:
        marks = ", ".join("?" * len(_ARTICLE_COLUMNS))
        self.db.executemany(f"INSERT INTO articles VALUES ({marks})", self._articles)
        marks = ", ".join("?" * len(_COMMENT_COLUMNS))
        self.db.executemany(f"INSERT INTO comments VALUES ({marks})", self._comments)
        self._articles.clear()
        self._comments.clear()

    def finish(self) -> None:
        """Done reading: index the comments by article and date."""
        self.flush()
        self.db.execute("CREATE INDEX by_article ON comments (article_key, created_at)")

    def comment_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM comments").fetchone()[0]

    def articles(self) -> Iterator[SourceArticle]:
        """Each source article once (the first seen, when a file names one twice)."""
        query = f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM articles ORDER BY line"
        seen = set()
        for row in self.db.execute(query).fetchall():
            article = SourceArticle(*row)
            if article.key in seen:
                continue
            seen.add(article.key)
            article.map_keys = json.loads(article.map_keys)
            article.other_ids = json.loads(article.other_ids)
            article.published_at = _when(article.published_at)
            article.closed = bool(article.closed)
            yield article

    def comments_of(self, article_key: str) -> list[SourceComment]:
        """An article's comments, oldest first (source order breaks ties)."""
        rows = self.db.execute(
            f"SELECT {', '.join(_COMMENT_COLUMNS)} FROM comments WHERE article_key = ? "
            "ORDER BY created_at, line", (article_key,),
        ).fetchall()
        comments = [SourceComment(*row) for row in rows]
        for comment in comments:
            comment.created_at = _when(comment.created_at)
        return comments

    def comments_without_article(self) -> list[tuple[str, int]]:
        """(source id, line) of comments whose article the file never describes."""
        return self.db.execute(
            "SELECT source_id, line FROM comments WHERE article_key NOT IN "
            "(SELECT key FROM articles) ORDER BY line"
        ).fetchall()
