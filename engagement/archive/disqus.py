"""Disqus's XML export: each `<thread>` is an article, each `<post>` a comment of its thread."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import BinaryIO

from engagement.archive.staging import SourceArticle, SourceComment, Staging
from engagement.archive.summary import Summary
from engagement.archive.wordpress import path_article_id, url_path
from engagement.archive.xml import Record, records
from engagement.http import article_id_from

DSQ_ID = "{http://disqus.com/disqus-internals}id"


def read_disqus(file: BinaryIO, staging: Staging, summary: Summary, *, on_read) -> None:
    for record in records(file, frozenset({"thread", "post"}), depth=1,
                          root="disqus", export="a Disqus export",
                          lined=frozenset({"thread", "post"}), on_read=on_read):
        if record.element.tag == "thread":
            _stage_thread(record, staging, summary)
        else:
            _stage_post(record, staging, summary)


def _stage_thread(thread: Record, staging: Staging, summary: Summary) -> None:
    summary.source_articles += 1
    identifier, link = thread.text("id"), thread.text("link")
    # The site's own identifier when it gave Disqus one, else the path of the page's link.
    article_id = article_id_from(identifier) if identifier else None
    note = None
    if article_id is None and link:
        article_id = path_article_id(link)
        if identifier and article_id is not None:
            note = (f"thread {thread.element.get(DSQ_ID, '?')}: its identifier {identifier!r} "
                    f"is not an article id; used {article_id} (its link's path): give the "
                    f"widget's id with --map")
    staging.add_article(SourceArticle(
        key=thread.element.get(DSQ_ID, "") or f"line-{thread.line}", line=thread.line,
        note=note,
        article_id=article_id,
        map_keys=[value for value in (identifier, link, url_path(link),
                                      thread.element.get(DSQ_ID)) if value],
        title=thread.text("title") or None, url=link or None,
        published_at=_moment(thread.text("createdAt")),
        closed=thread.text("isClosed") == "true",
    ))


def _stage_post(post: Record, staging: Staging, summary: Summary) -> None:
    summary.source_comments += 1
    source_id = post.element.get(DSQ_ID, "")
    if not source_id:
        summary.skip("no comment id", post.line, "a post without dsq:id")
        return
    created_at = _moment(post.text("createdAt"))
    if created_at is None:
        summary.skip("no date", post.line, f"post {source_id} has no createdAt")
        return
    if post.text("isSpam") == "true":
        status = "spam"
    elif post.text("isDeleted") == "true":
        status = "deleted"
    else:
        status = "approved"
    staging.add_comment(SourceComment(
        source_id=source_id, article_key=post.attribute("thread", DSQ_ID), line=post.line,
        parent_id=post.attribute("parent", DSQ_ID) or None,
        created_at=created_at, status=status,
        author_name=post.text("author/name") or post.text("author/username"),
        author_email=post.text("author/email"),
        author_website=None,
        client_ip=post.text("ipAddress") or None,
        body=post.raw_text("message"),
    ))


def _moment(text: str) -> datetime | None:
    """The time in UTC; None without one, or past what UTC holds (year 9999 at -01:00)."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
