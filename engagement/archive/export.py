"""This service's own export, and reading it back.

The file is one JSON object (format "engagement-export", version 1), written and read an
article at a time so that neither side holds more than one article's comments:

    {"format": "engagement-export", "version": 1, "origin": "3f0c9a1e5b7d2468",
     "exported_at": "2026-12-01T12:00:00Z",
     "articles": [{"id", "title", "url", "published_at", "first_seen_at",
                   "comments_open": true|false|null (a moderator's choice; null: the rules),
                   "comments_close_at", "share_counts": {"<network>": n, ...},
                   "comments": [{"id", "parent_id", "status", "held_for", "author_name",
                                 "author_email", "author_website", "avatar", "body", "body_html",
                                 "pinned", "created_at", "edited_at", "deleted_at",
                                 "client_ip", "source": {"name", "id"} | null,
                                 "votes": {"up", "down", "readers": [{"client_hash",
                                           "value": 1|-1, "voted_at"}, ...]}}, ...]}, ...]}

Comments come oldest first (by id), so a parent always precedes its replies; `parent_id` is
an `id` of the same file. Read back where those ids are free (an empty database), comments
keep them, and so readers' links to them (`#engagement-comment-<id>`) still lead there. The
file holds authors' emails and addresses: keep it as safe as the database. A reader's vote is
kept as the keyed hash that recognises them: it recognises them again only under the same
ENGAGEMENT_SECRET_KEY.

`origin` names the database that wrote the file (a random id, kept in it: ExportOrigin), and
comes before `articles`. Reading it back gives every comment the source it had (a comment
that came from WordPress stays known by its WordPress id), or ("engagement",
"<origin>#comment-<its id in the file>"): every database numbers its comments from 1, so
exports of two are told apart, while one read twice, or into another database, adds nothing.
An export written before origins (none) names them ("engagement", "<id>"), as it did; such a
comment is also recognised by the origin's key in its article."""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

import ijson
import sqlalchemy as sa

from engagement.archive.models import ExportOrigin, ImportedComment
from engagement.archive.services import (
    COMMENT,
    NO_EDIT_TOKEN,
    ImportSettings,
    Placed,
    avatar_of,
    place_under,
    record_article,
    stored_id,
    website_of,
)
from engagement.archive.staging import SourceArticle
from engagement.archive.summary import Summary
from engagement.archive.xml import UTF8_BOM, gzipped
from engagement.articles.counters import recount
from engagement.articles.models import Article
from engagement.comments.markdown import sanitize_html
from engagement.comments.models import Comment, CommentStatus
from engagement.database import insert_if_absent
from engagement.extensions import db
from engagement.http import MAX_DB_INT, article_id_from
from engagement.moderation.admin_schemas import HOLD_REASONS
from engagement.shares.models import ShareTally
from engagement.shares.services import known_network
from engagement.votes.models import Vote
from engagement.votes.services import wilson_lower_bound

FORMAT, VERSION = "engagement-export", 1
# An export nests 8 deep (its object, articles, an article, comments, a comment, its votes,
# their readers, a reader); a file that nests twice that is something else.
EXPORT_NESTING, MAX_NESTING = 8, 16
OWN_SOURCE = "engagement"
ORIGIN = re.compile(r"[0-9A-Za-z._-]{1,40}")
AVATAR = re.compile(r"[0-9a-f]{0,64}")
SCALARS = frozenset({"null", "boolean", "number", "string"})


class NotAnExport(Exception):
    """The file is not this service's export, or not one this version reads."""


# --- Writing --------------------------------------------------------------------------------


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def own_origin(*, create: bool = False) -> str | None:
    """What names this database in its exports; made by the first (`create`), flushed."""
    if create:
        insert_if_absent(db.session, ExportOrigin, {"id": 1, "origin": secrets.token_hex(8)})
    return db.session.scalar(sa.select(ExportOrigin.origin).where(ExportOrigin.id == 1))


def write_export(out: IO[str], *, article_id: str | None, now: datetime, origin: str) -> int:
    """Write the export; the number of articles written."""
    out.write(f'{{"format": "{FORMAT}", "version": {VERSION}, "origin": {json.dumps(origin)}, '
              f'"exported_at": {json.dumps(_when(now))}, "articles": [')
    written = 0
    for article in _articles(article_id):
        out.write(",\n" if written else "\n")
        out.write(json.dumps(_exported_article(article), ensure_ascii=False))
        written += 1
    out.write("\n]}\n")
    return written


def _articles(article_id: str | None) -> Iterator[Article]:
    query = sa.select(Article.id).order_by(Article.id)
    if article_id is not None:
        query = query.where(Article.id == article_id)
    for chosen in db.session.scalars(query).all():
        yield db.session.get(Article, chosen)
        db.session.expunge_all()  # one article's rows in memory at a time


def _exported_article(article: Article) -> dict[str, Any]:
    tallies = db.session.execute(
        sa.select(ShareTally.network, ShareTally.count)
        .where(ShareTally.article_id == article.id).order_by(ShareTally.network)
    ).all()
    sources = {comment_id: {"name": name, "id": source_id}
               for comment_id, name, source_id in db.session.execute(
                   sa.select(ImportedComment.comment_id, ImportedComment.source,
                             ImportedComment.source_id)
                   .join(Comment, Comment.id == ImportedComment.comment_id)
                   .where(Comment.article_id == article.id))}
    comments = db.session.scalars(
        sa.select(Comment).where(Comment.article_id == article.id).order_by(Comment.id)
    ).all()
    readers: dict[int, list] = {}
    for vote in db.session.scalars(sa.select(Vote).where(Vote.article_id == article.id)
                                   .order_by(Vote.comment_id, Vote.voted_at)):
        readers.setdefault(vote.comment_id, []).append(
            {"client_hash": vote.client_hash, "value": vote.value,
             "voted_at": _when(vote.voted_at)})
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "published_at": _when(article.published_at),
        "first_seen_at": _when(article.first_seen_at),
        "comments_open": article.comments_open_by_moderator,
        "comments_close_at": _when(article.comments_close_at),
        "share_counts": {network: count for network, count in tallies},
        "comments": [_exported_comment(comment, sources.get(comment.id),
                                       readers.get(comment.id, [])) for comment in comments],
    }


def _exported_comment(comment: Comment, source: dict | None, readers: list
                      ) -> dict[str, Any]:
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "status": comment.status.value,
        "held_for": comment.held_for,
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_website": comment.author_website,
        "avatar": comment.avatar,
        "body": comment.body,
        "body_html": comment.body_html,
        "pinned": comment.pinned,
        "created_at": _when(comment.created_at),
        "edited_at": _when(comment.edited_at),
        "deleted_at": _when(comment.deleted_at),
        "client_ip": comment.client_ip,
        "source": source,
        "votes": {"up": comment.upvotes, "down": comment.downvotes, "readers": readers},
    }


# --- Reading back ---------------------------------------------------------------------------


def read_export(file: IO[bytes], summary: Summary, settings: ImportSettings, advance) -> None:
    """Write every article and comment of an export (a file at a time, in the caller's
    transaction); NotAnExport names the first thing that is not as this module writes it."""
    start = file.read(4)
    if hint := gzipped(start, "json"):
        raise NotAnExport(hint.removesuffix("."))  # the command adds its own full stop
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in start:
        raise NotAnExport("not UTF-8 JSON: it is UTF-16 (or UTF-32); save it as UTF-8 and "
                          "import that")
    # A byte order mark, which editors on Windows add, is read past: JSON forbids it.
    file = _Counted(file, skip=len(UTF8_BOM) if start.startswith(UTF8_BOM) else 0)
    file.seek(0)
    try:
        head = _head(file)
        if head.get("format") != FORMAT or head.get("version") != VERSION:
            raise NotAnExport(f'not an export of this service (format "{FORMAT}", version '
                              f"{VERSION})")
        origin = head.get("origin")
        if origin is not None and not (isinstance(origin, str) and ORIGIN.fullmatch(origin)):
            raise NotAnExport("its origin is not 1-40 of A-Z a-z 0-9 . _ -")
        origins = Origins(origin, own_origin())
        for number, document in enumerate(ijson.items(_events(file), "articles.item"), 1):
            summary.source_articles += 1
            _import_article(document, f"article {number}", summary, settings, origins)
            advance(1)
    except ijson.IncompleteJSONError as error:
        if file.at_end:
            raise NotAnExport(f"not valid JSON: the file ends at line {file.line}, column "
                              f"{file.column} before its JSON does (cut short?)") from None
        raise _not_json(error, file) from None
    except ijson.JSONError as error:
        raise _not_json(error, file) from None


def _not_json(error: ijson.JSONError, file: _Counted) -> NotAnExport:
    """The parser's reason in one line (it gives bytes, with the text at fault on more)."""
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    reason = str(reason).split("\n")[0].strip()
    if "invalid bytes in UTF8" in reason:
        return NotAnExport(f"not UTF-8 JSON: bytes that are not UTF-8 {file.not_utf8()} "
                           f"(saved as Latin-1 or Windows-1252?); save it as UTF-8 and import "
                           f"that")
    return NotAnExport(f"not valid JSON ({reason}) {file.place()}")


class Origins(NamedTuple):
    file: str | None  # the database that wrote the file; None in one written before origins
    ours: str | None  # this database's, if it ever exported


def _head(file: _Counted) -> dict[str, Any]:
    """The export's own values: those before its articles, where this module writes them."""
    head: dict[str, Any] = {}
    for number, (prefix, event, value) in enumerate(_events(file)):
        if number == 0 and event != "start_map":
            break
        if prefix == "" and event == "map_key" and value == "articles":
            break
        if event in SCALARS and "." not in prefix:
            head[prefix] = value
    return head


def _events(file: _Counted) -> Iterator[tuple[str, str, Any]]:
    """The file's parsing events from its start, refusing nesting deeper than an export's
    before the parser goes further: each event carries its path, so a file of a few hundred
    kilobytes of `[` would take gigabytes (the square of its depth) to reach its end."""
    file.seek(0)
    return ijson.parse(_shallow(ijson.basic_parse(file), file))


def _shallow(events: Iterator[tuple[str, Any]], file: _Counted) -> Iterator[tuple[str, Any]]:
    depth = 0
    for event, value in events:
        if event == "start_map" or event == "start_array":
            depth += 1
            if depth > MAX_NESTING:
                raise NotAnExport(
                    f"not an export of this service: it nests more than {MAX_NESTING} deep "
                    f"(an export nests {EXPORT_NESTING}) {file.place()}")
        elif event == "end_map" or event == "end_array":
            depth -= 1
        yield event, value


class _Counted:
    """A file that knows the lines it has given: where the parser was when it stopped."""

    def __init__(self, file: IO[bytes], *, skip: int = 0):
        self.file, self.skip = file, skip  # bytes before the JSON (a byte order mark)
        self.chunk = b""
        self.line, self.column, self.chunk_line, self.at_end = 1, 1, 1, False

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        self.chunk, self.chunk_line, self.at_end = chunk, self.line, not chunk
        lines = chunk.split(b"\n")
        self.line += len(lines) - 1
        tail = lines[-1].decode("utf-8", "replace")
        self.column = (self.column if len(lines) == 1 else 1) + len(tail)
        return chunk

    def place(self) -> str:
        """Where the parser stopped: within the last chunk it read."""
        if self.chunk_line == self.line:
            return f"at line {self.line}"
        return f"between lines {self.chunk_line} and {self.line}"

    def not_utf8(self) -> str:
        """Where the last chunk read has bytes that are not UTF-8: its first such line."""
        lines = self.chunk.split(b"\n")
        for number, line in enumerate(lines[:-1]):  # the last may end inside a character
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f"at line {self.chunk_line + number}"
        return self.place()

    def seek(self, offset: int) -> None:
        self.file.seek(self.skip + offset)
        self.line, self.column, self.chunk_line, self.at_end = 1, 1, 1, False


def _import_article(document: Any, where: str, summary: Summary, settings: ImportSettings,
                    origins: Origins) -> None:
    fields = _Fields(document, where)
    article_id = fields.article_id("id")
    comments_open = fields.flag("comments_open", allow_none=True)
    values = {
        "title": fields.text("title", 500, allow_none=True),
        "url": fields.text("url", 2000, allow_none=True),
        "published_at": fields.moment("published_at", allow_none=True),
    }
    created = insert_if_absent(db.session, Article, {
        "id": article_id, **values,
        "first_seen_at": fields.moment("first_seen_at", allow_none=True) or settings.now,
        "comments_open_by_moderator": comments_open,
        "comments_close_at": fields.moment("comments_close_at", allow_none=True),
    })
    if created:
        summary.articles_created += 1
    else:
        record_article(article_id, SourceArticle(
            key=article_id, line=0, article_id=article_id, map_keys=[], **values,
            closed=comments_open is False), summary, settings.now)
    for network, count in fields.mapping("share_counts").items():
        known = known_network(network, settings.share_networks)
        if known is None:  # /counts would say its shares, and share_counts.total leave them out
            raise NotAnExport(f"{where}: share_counts names {network!r}, not a network this "
                              f"site counts ({', '.join(settings.share_networks)}): add it to "
                              f"ENGAGEMENT_SHARE_NETWORKS, or take it out of the file")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_DB_INT:
            raise NotAnExport(f"{where}: share count of {network!r} is not a count (0 to "
                              f"{MAX_DB_INT})")
        insert_if_absent(db.session, ShareTally,
                         {"article_id": article_id, "network": known, "count": count})
    comments = document.get("comments") or []
    if not isinstance(comments, list):
        raise NotAnExport(f"{where}: comments is not a list")
    summary.source_comments += len(comments)
    _import_comments(article_id, comments, where, summary, settings, origins)
    recount(article_id)  # its counters and version, as the imported rows make them


def _import_comments(article_id: str, comments: list, where: str, summary: Summary,
                     settings: ImportSettings, origins: Origins) -> None:
    rows = [_Fields(comment, f"{where}, comment {n}") for n, comment in enumerate(comments, 1)]
    keys = [_source_key(fields, origins.file) for fields in rows]
    existing = _existing(keys)
    existing.update(_remembered_bare(article_id, [key for key in keys if key not in existing]))
    existing.update(_still_here(article_id, [(fields, key) for fields, key in zip(
        rows, keys, strict=True) if key not in existing], origins.ours))
    seen: set[tuple[str, str]] = set()
    kept = []
    for fields, key in zip(rows, keys, strict=True):
        if key in seen:
            summary.skipped["repeated in the file"] += 1
            summary.problem(0, f"{fields.where}: the same comment as one before it; left out")
            continue
        seen.add(key)
        kept.append((fields, key))
    keep_ids = _ids_free([fields.number("id") for fields, key in kept if key not in existing])
    placed: dict[int, Placed] = {}
    links = []
    for fields, key in kept:
        exported_id = fields.number("id")
        if key in existing:
            placed[exported_id] = existing[key]
            summary.skipped["already imported"] += 1
            continue
        parent_id = fields.number("parent_id", allow_none=True)
        parent = placed.get(parent_id) if parent_id is not None else None
        if parent_id is not None and parent is None:
            summary.attached_to_article += 1
            summary.problem(0, f"{fields.where}: its parent {parent_id} is not before it in "
                               f"the file; attached to the article")
        row = _comment_row(article_id, fields, parent, settings)
        if keep_ids:
            row["id"] = exported_id
        new_id = db.session.scalar(sa.insert(Comment).values(**row).returning(Comment.id))
        placed[exported_id] = Placed(new_id, row["depth"], row["parent_id"], row["thread_id"])
        links.append({"source": key[0], "source_id": key[1], "comment_id": new_id})
        _import_votes(article_id, new_id, fields)
        summary.imported["deleted" if row["deleted_at"] else row["status"].value] += 1
    if links:
        db.session.execute(sa.insert(ImportedComment), links)
    if keep_ids and links and db.session.get_bind().dialect.name == "postgresql":
        # Rows numbered by hand: the sequence must move past them before it numbers another.
        db.session.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('comments', 'id'), "
            "(SELECT max(id) FROM comments))"))


def _ids_free(ids: list[int]) -> bool:
    """Whether an article's comments can keep their ids (and readers' links to them): each is
    one comment's, and none is taken here, as in the empty database a restore goes to."""
    if not ids or len(set(ids)) < len(ids):
        return False
    if not all(0 < comment_id <= MAX_DB_INT for comment_id in ids):
        return False
    for start in range(0, len(ids), 500):
        taken = db.session.scalar(sa.select(sa.func.count()).select_from(Comment)
                                  .where(Comment.id.in_(ids[start:start + 500])))
        if taken:
            return False
    return True


def _import_votes(article_id: str, comment_id: int, fields: _Fields) -> None:
    """The comment's tallies, and each reader's vote (so the widget shows it to them)."""
    votes = _Fields(fields.mapping("votes"), f"{fields.where}, votes")
    if not votes.document:
        return
    up, down = votes.count("up"), votes.count("down")
    db.session.execute(sa.update(Comment).where(Comment.id == comment_id).values(
        upvotes=up, downvotes=down, vote_score=wilson_lower_bound(up, down)))
    readers = votes.document.get("readers") or []
    if not isinstance(readers, list):
        raise NotAnExport(f"{votes.where}: readers is not a list")
    rows = []
    for n, reader in enumerate(readers, 1):
        vote = _Fields(reader, f"{votes.where}, reader {n}")
        value = vote.number("value")
        if value not in (1, -1):
            raise NotAnExport(f"{vote.where}: value is not 1 or -1")
        rows.append({"comment_id": comment_id, "article_id": article_id, "value": value,
                     "client_hash": vote.text("client_hash", 64),
                     "voted_at": vote.moment("voted_at")})
    if rows:
        db.session.execute(sa.insert(Vote), rows)


def _source_key(fields: _Fields, origin: str | None) -> tuple[str, str]:
    source = fields.document.get("source")
    if source is None:
        return OWN_SOURCE, stored_id(origin, str(fields.number("id")))
    if (not isinstance(source, dict) or not isinstance(source.get("name"), str)
            or not isinstance(source.get("id"), str)):
        raise NotAnExport(f"{fields.where}: source is not {{\"name\", \"id\"}}")
    return source["name"][:16], source["id"][:100]


def _existing(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Placed]:
    found = {}
    for start in range(0, len(keys), 200):
        rows = db.session.execute(
            sa.select(ImportedComment.source, ImportedComment.source_id, Comment.id,
                      Comment.depth, Comment.parent_id, Comment.thread_id)
            .join(Comment, Comment.id == ImportedComment.comment_id)
            .where(sa.tuple_(ImportedComment.source, ImportedComment.source_id)
                   .in_(keys[start:start + 200]))
        )
        found.update({(row[0], row[1]): Placed(*row[2:]) for row in rows})
    return found


def _remembered_bare(article_id: str, keys: list[tuple[str, str]]
                     ) -> dict[tuple[str, str], Placed]:
    """Those of `keys` ("engagement", "<origin>#comment-<id>") whose comment this article
    holds by its bare id, as imports of exports written before origins remembered it (the
    WordPress importer recognises comments remembered before sites the same way)."""
    by_bare: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        if key[0] == OWN_SOURCE and COMMENT in key[1]:
            by_bare.setdefault(key[1].rsplit(COMMENT, 1)[1], []).append(key)
    found, bare = {}, list(by_bare)
    for start in range(0, len(bare), 500):
        for row in db.session.execute(
                sa.select(ImportedComment.source_id, Comment.id, Comment.depth,
                          Comment.parent_id, Comment.thread_id)
                .join(Comment, Comment.id == ImportedComment.comment_id)
                .where(ImportedComment.source == OWN_SOURCE,
                       ImportedComment.source_id.in_(bare[start:start + 500]),
                       Comment.article_id == article_id)):
            found.update({key: Placed(*row[1:]) for key in by_bare[row[0]]})
    return found


def _still_here(article_id: str, rows: list[tuple[_Fields, tuple[str, str]]],
                ours: str | None) -> dict[tuple[str, str], Placed]:
    """The comments posted here that this export carries: read back into the database it came
    from, or from the export of another database that read ours (which names them by the
    source it gave them, ("engagement", "<our origin>#comment-<their id here>"), or their bare
    id in files written before origins). The comment of that id, in its article, created at
    its moment, is that one: posted here, it has no source to be recognised by."""
    moments, keys = {}, {}
    for fields, key in rows:
        comment_id = _own_id(key, ours)
        if comment_id is not None and 0 < comment_id <= MAX_DB_INT:
            moments[comment_id], keys[comment_id] = fields.moment("created_at"), key
    found = {}
    chosen = list(moments)
    for start in range(0, len(chosen), 500):
        for row in db.session.execute(
                sa.select(Comment.id, Comment.created_at, Comment.depth, Comment.parent_id,
                          Comment.thread_id)
                .where(Comment.id.in_(chosen[start:start + 500]),
                       Comment.article_id == article_id)):
            if row.created_at == moments[row.id]:
                found[keys[row.id]] = Placed(row.id, row.depth, row.parent_id, row.thread_id)
    return found


def _own_id(key: tuple[str, str], ours: str | None) -> int | None:
    """The id here of a comment the key may name as posted here: by our origin, or bare."""
    if key[0] != OWN_SOURCE:
        return None
    text = key[1]
    if ours is not None and text.startswith(f"{ours}{COMMENT}"):
        text = text.removeprefix(f"{ours}{COMMENT}")
    return int(text) if text.isascii() and text.isdigit() else None


def _comment_row(article_id: str, fields: _Fields, parent: Placed | None,
                 settings: ImportSettings) -> dict[str, Any]:
    status = fields.text("status", 16)
    if status not in {state.value for state in CommentStatus}:
        raise NotAnExport(f"{fields.where}: status {status!r} is not one of ours")
    parent_id, thread_id, depth = place_under(parent, settings.max_depth)
    email = fields.text("author_email", 320).lower()
    created_at = fields.moment("created_at")
    address = fields.address("client_ip")
    return {
        "article_id": article_id, "parent_id": parent_id, "thread_id": thread_id,
        "depth": depth, "status": CommentStatus(status),
        "held_for": fields.choices("held_for", HOLD_REASONS),
        "author_name": fields.text("author_name", 80),
        "author_email": email,
        "author_website": website_of(fields.text("author_website", 2000, allow_none=True)),
        "avatar": _avatar(fields, email),
        "body": fields.text("body", None),
        "body_html": sanitize_html(fields.text("body_html", None)),
        "pinned": fields.flag("pinned"),
        "flag_count": 0,
        "created_at": created_at,
        "edited_at": fields.moment("edited_at", allow_none=True),
        "deleted_at": fields.moment("deleted_at", allow_none=True),
        "edit_token_hash": NO_EDIT_TOKEN,
        "client_ip": address if created_at > settings.keep_addresses_after else None,
    }


def _avatar(fields: _Fields, email: str) -> str:
    """The exported identicon key (a keyed hash: the same picture under the same secret key),
    or "" for none (an erased author's); from an export written before it carried them, one
    made of the email, none without."""
    if "avatar" not in fields.document:
        return avatar_of(email) if email else ""
    avatar = fields.text("avatar", 64)
    if not AVATAR.fullmatch(avatar):
        raise NotAnExport(f"{fields.where}: avatar is not a hexadecimal key")
    return avatar


class _Fields:
    """An exported object's fields, each checked as it is read; NotAnExport names the place."""

    def __init__(self, document: Any, where: str):
        if not isinstance(document, dict):
            raise NotAnExport(f"{where} is not an object")
        self.document, self.where = document, where

    def _refuse(self, name: str, what: str):
        return NotAnExport(f"{self.where}: {name} is not {what}")

    def text(self, name: str, longest: int | None, *, allow_none: bool = False) -> str | None:
        value = self.document.get(name)
        if value is None and allow_none:
            return None
        if not isinstance(value, str) or (longest is not None and len(value) > longest):
            raise self._refuse(name, f"text of at most {longest} characters"
                               if longest else "text")
        return value

    def number(self, name: str, *, allow_none: bool = False) -> int | None:
        value = self.document.get(name)
        if value is None and allow_none:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._refuse(name, "a whole number")
        return value

    def count(self, name: str) -> int:
        value = self.number(name)
        if not 0 <= value <= MAX_DB_INT:
            raise self._refuse(name, f"a count (0 to {MAX_DB_INT})")
        return value

    def choices(self, name: str, allowed: list[str]) -> list[str]:
        value = self.document.get(name) or []
        if not isinstance(value, list) or not all(choice in allowed for choice in value):
            raise self._refuse(name, f"a list of {', '.join(allowed)}")
        return list(value)

    def address(self, name: str) -> str | None:
        value = self.text(name, 45, allow_none=True)
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise self._refuse(name, "an IP address") from None

    def flag(self, name: str, *, allow_none: bool = False) -> bool | None:
        value = self.document.get(name)
        if value is None and allow_none:
            return None
        if not isinstance(value, bool):
            raise self._refuse(name, "true or false")
        return value

    def moment(self, name: str, *, allow_none: bool = False) -> datetime | None:
        value = self.text(name, 40, allow_none=allow_none)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self._refuse(name, "an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise self._refuse(name, "a time with its offset")
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # year 9999 at -01:00: no UTC time holds it
            raise self._refuse(name, "a time of the years 1 to 9999 in UTC") from None

    def mapping(self, name: str) -> dict:
        value = self.document.get(name) or {}
        if not isinstance(value, dict):
            raise self._refuse(name, "an object")
        return value

    def article_id(self, name: str) -> str:
        value = self.text(name, 600)
        article_id = article_id_from(value)
        if article_id is None:
            raise self._refuse(name, "an article id")
        return article_id
