"""Writing what an import read: articles created or completed, comments placed in their
threads in date order, each remembered by its source id so that a second run adds nothing.
Functions flush; the command commits once, at the end, or rolls back for a dry run."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import marshmallow as ma
import sqlalchemy as sa

from engagement.archive.models import ImportedComment
from engagement.archive.staging import SourceArticle, SourceComment, Staging
from engagement.archive.summary import Summary
from engagement.articles.counters import recount
from engagement.articles.models import Article
from engagement.clients import keyed_hash
from engagement.comments.markdown import sanitize_html
from engagement.comments.models import Comment, CommentStatus
from engagement.database import insert_if_absent
from engagement.extensions import db
from engagement.fields import WebUrl, without_invisible

# No token hashes to this (hashes are hex): nobody edits an imported comment with a token.
NO_EDIT_TOKEN = "-" * 64
NAME_LENGTH = 80
BATCH = 500  # ids per IN (...) query
_BLOCK_TAG = re.compile(r"<(p|div|blockquote|pre|ul|ol|table|h[1-6])[\s>]", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n")
_EMPTY_HTML = re.compile(r"</?(p|br|div)\b[^>]*>|&nbsp;|\s", re.IGNORECASE)  # nothing to read
POST, COMMENT = "/?p=", "#comment-"  # a WordPress comment's key: site/?p=post#comment-id


@dataclass(frozen=True)
class ImportSettings:
    source: str  # "wordpress" or "disqus"
    max_depth: int
    keep_addresses_after: datetime  # addresses of comments older than this are not kept
    article_map: dict[str, str]
    now: datetime
    share_networks: tuple[str, ...] = ()  # those an export's share counts may name


class Placed(NamedTuple):
    """Where a stored comment sits: what a reply to it needs to know."""

    id: int
    depth: int
    parent_id: int | None
    thread_id: int | None


def write_staged(staging: Staging, summary: Summary, settings: ImportSettings,
                 advance: Callable[[int], None]) -> None:
    for source_article in staging.articles():
        comments = staging.comments_of(source_article.key)
        _write_article(source_article, comments, summary, settings)
        advance(len(comments))
        db.session.flush()
        db.session.expunge_all()  # the session must not grow with the file either
    for source_id, line in staging.comments_without_article():
        summary.skip("no such thread", line, f"comment {source_id}: its article is not "
                                             f"in the file")


def _write_article(source: SourceArticle, comments: list[SourceComment], summary: Summary,
                   settings: ImportSettings) -> None:
    mapped = next((settings.article_map[key] for key in source.map_keys
                   if key in settings.article_map), None)
    article_id = mapped or source.article_id
    if mapped is None and source.note and (comments or source.closed):
        summary.problem(source.line, source.note)
    before = _imported_before(source, comments, settings.source)
    if before is not None and before != article_id:
        # Another --article-id (or --map) than the first run's: the article that run made
        # keeps the post, rather than an empty twin of it under the new id.
        summary.problem(source.line, f"{source.url or source.key}: imported before as article "
                                     f"{before}, which keeps it (this run's ids make it "
                                     f"{article_id or 'none'})")
        article_id = before
    if article_id is None:
        summary.problem(source.line, f"no article id for {source.url or source.key}: give "
                                     f"it one with --map (or another --article-id)")
        summary.skipped["no article id"] += len(comments)
        return
    if not comments and not source.closed:
        return
    record_article(article_id, source, summary, settings.now)
    _write_comments(article_id, source.scope, comments, summary, settings)
    recount(article_id)  # its counters and version, as the imported rows make them


def _imported_before(source: SourceArticle, comments: list[SourceComment], name: str
                     ) -> str | None:
    """The article a run before made of this post or thread: where its comments went, or for
    one without comments (closed), the article another --article-id makes of it, if that
    article has its link."""
    if not comments:
        return next((article_id for article_id in source.other_ids
                     if source.url and db.session.scalar(
                         sa.select(Article.url).where(Article.id == article_id)) == source.url),
                    None)
    keys = {stored_id(source.scope, comment.source_id): comment.source_id
            for comment in comments}
    found = Counter(article_id for article_id, _ in _imported_as(name, keys).values())
    return found.most_common(1)[0][0] if found else None


def record_article(article_id: str, source: SourceArticle, summary: Summary,
                    now: datetime) -> None:
    """Create the article, or fill in what it lacks; closing it unless a moderator chose."""
    if insert_if_absent(db.session, Article, {"id": article_id, "first_seen_at": now}):
        summary.articles_created += 1
        created = True
    else:
        created = False
    article = db.session.get(Article, article_id)
    changed = False
    for name in ("title", "url", "published_at"):
        value = getattr(source, name)
        if name == "title" and value is not None:
            value = value[:500]
        if name == "url" and value is not None and len(value) > 2000:
            value = None
        if value is not None and getattr(article, name) is None:
            setattr(article, name, value)
            changed = True
    if source.closed and article.comments_open_by_moderator is None:
        article.comments_open_by_moderator = False
        changed = True
    if changed and not created:
        summary.articles_updated += 1


def _write_comments(article_id: str, scope: str | None, comments: list[SourceComment],
                    summary: Summary, settings: ImportSettings) -> None:
    """Insert the new comments a generation at a time (parents before replies), each
    generation oldest first, so ids follow the dates as the public list expects."""
    comments = _unrepeated(comments, summary)
    imported = _already_imported(settings.source, article_id, scope,
                                 {c.source_id for c in comments}
                                 | {c.parent_id for c in comments if c.parent_id})
    # Replies may hang from comments imported before, if they went to this same article.
    known = {key: placed for key, (where, placed) in imported.items() if where == article_id}
    fresh = [comment for comment in comments if comment.source_id not in imported]
    summary.skipped["already imported"] += len(comments) - len(fresh)
    if not summary.skipped["already imported"]:
        del summary.skipped["already imported"]
    in_file = {comment.source_id for comment in fresh}
    generation, waiting = [], []
    for comment in fresh:
        if comment.parent_id is None or comment.parent_id in known:
            generation.append(comment)
        elif comment.parent_id in in_file:
            waiting.append(comment)
        else:
            summary.attached_to_article += 1
            summary.problem(comment.line, f"comment {comment.source_id}: its parent "
                                          f"{comment.parent_id} is not in the file; attached "
                                          f"to the article")
            comment.parent_id = None
            generation.append(comment)
    while generation:
        _insert(article_id, scope, generation, known, summary, settings)
        generation = [comment for comment in waiting if comment.parent_id in known]
        waiting = [comment for comment in waiting if comment.parent_id not in known]
    for comment in waiting:  # replies in a loop of parents: no parent comes first
        summary.problem(comment.line, f"comment {comment.source_id}: its parents form a "
                                      f"loop; attached to the article")
        summary.attached_to_article += 1
        comment.parent_id = None
    if waiting:
        _insert(article_id, scope, waiting, known, summary, settings)


def _unrepeated(comments: list[SourceComment], summary: Summary) -> list[SourceComment]:
    """The comments of an article (a post), each source id once: the first in the file keeps
    it; of those on one line (a minified export), the oldest."""
    first: dict[str, SourceComment] = {}
    for comment in comments:  # oldest first, so a tie of lines keeps the oldest
        if comment.source_id not in first or comment.line < first[comment.source_id].line:
            first[comment.source_id] = comment
    kept = []
    for comment in comments:
        keeper = first[comment.source_id]
        if comment is keeper:
            kept.append(comment)
        elif keeper.line == comment.line:
            summary.skip("repeated id", comment.line, f"comment {comment.source_id}: its id "
                                                      f"was already given on this line")
        else:
            summary.skip("repeated id", comment.line, f"comment {comment.source_id}: its id "
                                                      f"was already given at line "
                                                      f"{keeper.line}")
    return kept


def stored_id(scope: str | None, source_id: str) -> str:
    """The key a source comment is remembered by: `news.example/?p=10#comment-3`."""
    return source_id if scope is None else f"{scope}{COMMENT}{source_id}"


def _already_imported(source: str, article_id: str, scope: str | None,
                      source_ids: Iterable[str]) -> dict[str, tuple[str, Placed]]:
    """{source id: (article id, where it sits)} of the comments a run before imported. One
    remembered under another key is this one when it went to this same article: by its bare
    id (as releases before scopes did), or by the same post and id under another spelling of
    the site's address (`https://www.news.example`, remembered before addresses were
    compared without `www.`; or a site that moved)."""
    by_key = {stored_id(scope, source_id): source_id for source_id in source_ids}
    found = _imported_as(source, by_key)
    if scope is not None:
        missing = {source_id for source_id in by_key.values() if source_id not in found}
        found.update(_imported_into(source, article_id, scope, missing))
    return found


def _imported_into(source: str, article_id: str, scope: str, source_ids: set[str]
                   ) -> dict[str, tuple[str, Placed]]:
    """Those of `source_ids` that the article holds as imported from the scope's post, under
    whatever site, or by bare id."""
    if not source_ids:
        return {}
    post = scope.rsplit(POST, 1)[-1]
    found = {}
    for row in db.session.execute(
            sa.select(ImportedComment.source_id, Comment.id, Comment.depth, Comment.parent_id,
                      Comment.thread_id)
            .join(Comment, Comment.id == ImportedComment.comment_id)
            .where(ImportedComment.source == source, Comment.article_id == article_id)):
        key = row[0]
        if COMMENT in key:
            site_and_post, key = key.rsplit(COMMENT, 1)
            if site_and_post.rsplit(POST, 1)[-1] != post:
                continue
        if key in source_ids:
            found[key] = (article_id, Placed(*row[1:]))
    return found


def _imported_as(source: str, by_key: dict[str, str]) -> dict[str, tuple[str, Placed]]:
    keys, found = list(by_key), {}
    for start in range(0, len(keys), BATCH):
        rows = db.session.execute(
            sa.select(ImportedComment.source_id, Comment.article_id, Comment.id, Comment.depth,
                      Comment.parent_id, Comment.thread_id)
            .join(Comment, Comment.id == ImportedComment.comment_id)
            .where(ImportedComment.source == source,
                   ImportedComment.source_id.in_(keys[start:start + BATCH]))
        )
        found.update({by_key[row[0]]: (row[1], Placed(*row[2:])) for row in rows})
    return found


def _insert(article_id: str, scope: str | None, generation: list[SourceComment],
            known: dict[str, Placed], summary: Summary, settings: ImportSettings) -> None:
    rows = [_comment_row(article_id, comment, known, settings, summary)
            for comment in generation]
    # Core, not the ORM's bulk path: a hundred thousand rows are plain values here.
    connection = db.session.connection()
    ids = connection.execute(
        sa.insert(Comment.__table__).returning(Comment.__table__.c.id,
                                               sort_by_parameter_order=True), rows
    ).scalars().all()
    connection.execute(sa.insert(ImportedComment.__table__), [
        {"source": settings.source, "source_id": stored_id(scope, comment.source_id),
         "comment_id": comment_id}
        for comment, comment_id in zip(generation, ids, strict=True)
    ])
    for comment, row, comment_id in zip(generation, rows, ids, strict=True):
        known[comment.source_id] = Placed(comment_id, row["depth"], row["parent_id"],
                                          row["thread_id"])
        summary.imported["deleted" if row["deleted_at"] else comment.status] += 1


def _comment_row(article_id: str, comment: SourceComment, known: dict[str, Placed],
                 settings: ImportSettings, summary: Summary) -> dict:
    parent = known[comment.parent_id] if comment.parent_id is not None else None
    parent_id, thread_id, depth = place_under(parent, settings.max_depth)
    deleted = comment.status == "deleted"
    body_html = "" if deleted else comment_html(comment.body)
    if not deleted and not _EMPTY_HTML.sub("", body_html):
        # As a comment its author deleted: a placeholder while it has replies, else unseen.
        summary.problem(comment.line, f"comment {comment.source_id}: its content is empty; "
                                      f"imported as deleted")
        deleted = True
    email = comment.author_email.strip().lower()[:320]
    keep_address = comment.created_at > settings.keep_addresses_after
    return {
        "article_id": article_id,
        "parent_id": parent_id,
        "thread_id": thread_id,
        "depth": depth,
        "status": CommentStatus.APPROVED if deleted else CommentStatus(comment.status),
        "held_for": [],
        "author_name": _author_name(comment, summary),
        "author_email": email,
        "author_website": website_of(comment.author_website),
        "avatar": avatar_of(email),
        "body": "" if deleted else comment.body,
        "body_html": body_html,
        "pinned": False,
        "flag_count": 0,
        "created_at": comment.created_at,
        "edited_at": None,
        "deleted_at": settings.now if deleted else None,
        "edit_token_hash": NO_EDIT_TOKEN,
        "client_ip": _address(comment.client_ip) if keep_address else None,
    }


def _author_name(comment: SourceComment, summary: Summary) -> str:
    """The name by the rule of a posted comment's (one line of at most 80 characters, without
    the invisible or direction-changing characters posting refuses), changed where it must
    be, which the summary tells."""
    name = " ".join(comment.author_name.split())
    if without_invisible(name) != name:
        name = " ".join(without_invisible(name).split())
        summary.problem(comment.line, f"comment {comment.source_id}: invisible or "
                                      f"direction-changing characters taken out of its "
                                      f"author's name, {name!r}")
    if len(name) > NAME_LENGTH:
        name = name[:NAME_LENGTH].rstrip()
        summary.problem(comment.line, f"comment {comment.source_id}: its author's name cut to "
                                      f"{NAME_LENGTH} characters, {name!r}")
    return name or "Anonymous"


def place_under(parent: Placed | None, max_depth: int) -> tuple[int | None, int | None, int]:
    """(parent_id, thread_id, depth) of a reply to `parent`: as the public API places one, a
    reply to a comment as deep as replies go joins that comment's level."""
    if parent is None:
        return None, None, 0
    thread_id = parent.thread_id or parent.id
    if parent.depth >= max_depth:
        return parent.parent_id, thread_id, parent.depth
    return parent.id, thread_id, parent.depth + 1


def comment_html(source_html: str) -> str:
    """A comment's HTML as WordPress or Disqus keep it, on our allow-list. WordPress stores
    text with line breaks and adds paragraphs when it shows it (wpautop): so do we."""
    text = source_html.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _BLOCK_TAG.search(text):
        paragraphs = [part.strip() for part in _BLANK_LINES.split(text) if part.strip()]
        text = "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in paragraphs)
    return sanitize_html(text)


@lru_cache(maxsize=4096)
def avatar_of(email: str) -> str:
    return keyed_hash("avatar", email)[:32]


_WEBSITE = WebUrl()


def website_of(url: str | None) -> str | None:
    """An author's website by the rule of a posted comment's (http(s), no user name, quotes
    and brackets percent-encoded); None when that rule refuses it."""
    if not url or not url.strip():
        return None
    try:
        return _WEBSITE.deserialize(url.strip())
    except ma.ValidationError:
        return None


def _address(text: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


def keep_addresses_after(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)
