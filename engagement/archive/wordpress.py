"""WordPress's export (WXR 1.0 to 1.2): each item (post, page or any type) that has comments
becomes an article, and each `wp:comment` a comment of it."""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime, tzinfo
from typing import BinaryIO
from urllib.parse import urlsplit

from engagement.archive.services import POST
from engagement.archive.staging import SourceArticle, SourceComment, Staging
from engagement.archive.summary import Summary
from engagement.archive.xml import Record, UnreadableFile, records
from engagement.http import article_id_from

ARTICLE_ID_RULES = ("slug", "post-id", "path")
STATUS_BY_APPROVED = {"1": "approved", "0": "pending", "spam": "spam"}
TRASHED = {"trash", "post-trashed"}
SKIPPED_TYPES = {"pingback", "trackback"}
NO_DATE = "0000-00-00 00:00:00"
WXR_VERSION = "wp:wxr_version"
SITE_URLS = ("wp:base_blog_url", "wp:base_site_url")  # a network's blog; the network


def url_path(url: str) -> str:
    """The path of a link as an archive wrote it: "" for one no URL reader can split (a
    bracketed host that is none, `http://[news.example/`)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def path_article_id(url: str) -> str | None:
    """The id a URL's path makes: `https://site/2019/05/hello/` -> `2019%2f05%2fhello`."""
    path = url_path(url).strip("/")
    return article_id_from(path, encode_reserved=True) if path else None


def site_of(url: str) -> str:
    """What names a site in its comments' keys, however its address is spelled (scheme, a
    leading `www.`, case, a trailing slash): `http://www.News.example/blog/` ->
    `news.example/blog`; a long one by a digest, so that a key fits its column."""
    url = url.strip().lower()
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        site = parts.netloc.removeprefix("www.") + parts.path.rstrip("/")
    except ValueError:  # a bracketed host that is none: the address as written names it
        site = url
    return site if len(site) <= 60 else hashlib.sha256(site.encode()).hexdigest()[:16]


def read_wordpress(file: BinaryIO, staging: Staging, summary: Summary, *, rule: str,
                   timezone: tzinfo, on_read) -> None:
    sites = {}  # the channel's base URLs, which come before its items
    for item in records(file, frozenset({"item", WXR_VERSION, *SITE_URLS}), depth=2,
                        root="rss", export="a WordPress export (WXR)",
                        lined=frozenset({"item", "wp:comment"}), on_read=on_read):
        if item.element.tag == WXR_VERSION:
            summary.wxr_version = item.element.text or "?"
            continue
        if item.element.tag in SITE_URLS:
            sites[item.element.tag] = (item.element.text or "").strip()
            continue
        comments = item.children("wp:comment")
        closed = item.text("wp:comment_status") == "closed"
        if not comments and not (closed and item.text("wp:status") == "publish"):
            continue
        summary.source_articles += 1
        post_id, slug, link = item.text("wp:post_id"), item.text("wp:post_name"), item.text("link")
        candidates = {
            "slug": article_id_from(slug) if slug else None,
            "post-id": article_id_from(post_id) if post_id else None,
            "path": path_article_id(link) if link else None,
        }
        key = post_id or f"line-{item.line}"
        staging.add_article(SourceArticle(
            key=key, line=item.line, article_id=candidates[rule],
            map_keys=[value for value in (post_id, slug, link, url_path(link)) if value],
            title=item.text("title") or None, url=link or None,
            published_at=_moment(item, "wp:post_date", timezone, summary),
            closed=closed,
            # Comment ids are a site's (a network's blog's): another site has the same ones.
            scope=f"{site_of(sites.get(SITE_URLS[0]) or sites.get(SITE_URLS[1], ''))}"
                  f"{POST}{post_id}",
            other_ids=[value for name, value in candidates.items() if name != rule and value],
        ))
        for comment in comments:
            _stage_comment(comment, key, staging, summary, timezone)
    if summary.wxr_version is None:
        # An RSS feed (the site's comments feed), or a WXR whose wp namespace is mistyped:
        # either would read as a site without comments.
        raise UnreadableFile(
            f"not a WordPress export (WXR): it has no <{WXR_VERSION}> in the namespace "
            f"http://wordpress.org/export/1.x/ (an RSS feed, or a mistyped namespace?).")


def _stage_comment(comment: Record, article_key: str, staging: Staging, summary: Summary,
                   timezone: tzinfo) -> None:
    summary.source_comments += 1
    source_id = comment.text("wp:comment_id")
    if not source_id:
        summary.skip("no comment id", comment.line, "a comment without wp:comment_id")
        return
    kind = comment.text("wp:comment_type")
    if kind in SKIPPED_TYPES:
        summary.skip(kind)
        return
    approved = comment.text("wp:comment_approved")
    if approved in TRASHED:
        summary.skip("trash")
        return
    status = STATUS_BY_APPROVED.get(approved)
    if status is None:
        summary.problem(comment.line, f"comment {source_id}: unknown comment_approved "
                                      f"{approved!r}, imported as pending")
        status = "pending"
    created_at = _moment(comment, "wp:comment_date", timezone, summary)
    if created_at is None:
        summary.skip("no date", comment.line, f"comment {source_id} has no date")
        return
    parent = comment.text("wp:comment_parent")
    staging.add_comment(SourceComment(
        source_id=source_id, article_key=article_key, line=comment.line,
        parent_id=parent if parent not in ("", "0") else None,
        created_at=created_at, status=status,
        # WordPress saves these HTML-escaped (a name by _wp_specialchars, an email and a URL
        # by kses, each `&` as `&amp;`): we keep text, which our answers escape where shown.
        author_name=html.unescape(comment.text("wp:comment_author")),
        author_email=html.unescape(comment.text("wp:comment_author_email")),
        author_website=html.unescape(comment.text("wp:comment_author_url")) or None,
        client_ip=comment.text("wp:comment_author_IP") or None,
        body=comment.raw_text("wp:comment_content"),
    ))


def _moment(record: Record, name: str, timezone: tzinfo, summary: Summary) -> datetime | None:
    """`name_gmt` in UTC; else `name` in the site's time zone (--timezone); None without."""
    gmt = record.text(f"{name}_gmt")
    if gmt and gmt != NO_DATE:
        parsed = _parse(gmt)
        if parsed is not None:
            return parsed.replace(tzinfo=UTC)
    local = record.text(name)
    if local and local != NO_DATE:
        parsed = _parse(local)
        if parsed is not None:
            summary.local_times += 1
            try:
                return parsed.replace(tzinfo=timezone).astimezone(UTC)
            except OverflowError:  # 9999-12-31 late in a zone west of UTC: no UTC time
                return None
    return None


def _parse(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
