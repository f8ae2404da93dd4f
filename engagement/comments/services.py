"""Comment rules: posting (placement in the thread, honeypot), the public threaded list, and the
author's edit and delete within the edit window. Functions flush; the route commits."""

from __future__ import annotations

import hmac
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.articles.services import (
    ArticlePolicy,
    bump_article_version,
    comments_are_open,
    find_article,
)
from engagement.clients import home_network, keyed_hash
from engagement.comments.markdown import render_markdown
from engagement.comments.models import Comment, CommentStatus
from engagement.errors import (
    CommentsClosed,
    EditWindowExpired,
    Forbidden,
    InvalidInput,
    InvalidToken,
    NotFound,
)
from engagement.extensions import db
from engagement.fields import RowView
from engagement.moderation.rules import ModerationRules, hold_reasons
from engagement.pagination import BoolKey, IdKey, Pager, ScoreKey
from engagement.tokens import hash_token, new_token


@dataclass(frozen=True)
class CommentPolicy:
    articles: ArticlePolicy
    moderation: ModerationRules
    max_depth: int
    edit_window: timedelta
    avatars: str = "email"

    @classmethod
    def from_config(cls, config, moderation: ModerationRules) -> CommentPolicy:
        return cls(
            articles=ArticlePolicy.from_config(config),
            moderation=moderation,
            max_depth=config["MAX_REPLY_DEPTH"],
            edit_window=timedelta(seconds=config["EDIT_WINDOW_SECONDS"]),
            avatars=config["AVATARS"],
        )


@dataclass(frozen=True)
class PostedComment:
    comment: Comment
    edit_token: str  # given to the author once; only its hash is stored
    edit_expires_at: datetime


def post_comment(
    article_id: str, fields: dict[str, Any], *, client_ip: str | None, now: datetime,
    policy: CommentPolicy, verified_here: bool = False,
) -> PostedComment:
    """Store a new comment or reply, published or held by the moderation rules. A filled
    honeypot stores it as spam, answered as held. `verified_here`: the email's owner proved
    from this client's home network that they read it (`_trusted_author`)."""
    article = find_article(article_id, policy.articles, now)
    if not comments_are_open(article, policy.articles, now):
        raise CommentsClosed()
    email = fields["author_email"].lower()
    body_html = render_markdown(fields["body"])
    if fields["parent_id"] is not None:
        # A moderator hiding a comment above the reply waits for it, or it for them, so that
        # one of the two counts it (decide_comments).
        _lock_articles([article.id])
    parent_id, thread_id, depth = _place_reply(article.id, fields["parent_id"], policy.max_depth)
    if fields.get("website_url"):
        status, held_for = CommentStatus.SPAM, ["honeypot"]
    else:
        trusted = _trusted_author(email, fields["author_name"].strip(), client_ip,
                                  verified_here=verified_here)
        held_for = hold_reasons(policy.moderation, fields["body"], body_html,
                                author_name=fields["author_name"],
                                first_time=not trusted)
        status = CommentStatus.PENDING if held_for else CommentStatus.APPROVED
    edit_token = new_token()
    comment = Comment(
        article_id=article.id,
        parent_id=parent_id,
        thread_id=thread_id,
        depth=depth,
        status=status,
        held_for=held_for,
        author_name=fields["author_name"].strip(),
        author_email=email,
        author_website=fields["author_website"],
        avatar=avatar_of(email, fields["author_name"].strip(), policy.avatars),
        body=fields["body"],
        body_html=body_html,
        created_at=now,
        edit_token_hash=hash_token(edit_token),
        client_ip=client_ip,
    )
    db.session.add(comment)
    db.session.flush()
    # A reply below a comment a moderator hid (only the API can place one there) is taken but
    # does not show, and is not counted while it does not.
    counted = _counted(comment) and ancestors_approved(comment)
    bump_article_version(article.id, comments=int(counted),
                         top_level=int(counted and parent_id is None))
    return PostedComment(comment, edit_token, now + policy.edit_window)


def avatar_of(email: str, name: str, source: str) -> str:
    """The identicon key: a keyed hash of the email (the same person, the same picture), of
    the name (no email involved), or nothing at all."""
    if source == "email":
        return keyed_hash("avatar", email)[:32]
    if source == "name":
        return keyed_hash("avatar-name", name.casefold())[:32]
    return ""


# An author's approved comments looked at for a match, newest first.
TRUSTED_CANDIDATES = 50


def _trusted_author(email: str, name: str, client_ip: str | None, *, verified_here: bool) -> bool:
    """Whether `first_time` moderation may let the comment through: an approved comment with
    the same email *and* the same name, and a sign that this client is its author: that comment
    was sent from this client's home network, or the email's owner confirmed reply emails from
    it (`verified_here`). The email alone is no proof (anyone can type it, and a verified one
    too), so a regular's address typed elsewhere is held like a stranger's, and the answer says
    nothing about whether the address commented before."""
    if client_ip is None:
        return False
    network = home_network(ipaddress.ip_address(client_ip))
    rows = db.session.execute(
        sa.select(Comment.author_name, Comment.client_ip)
        .where(Comment.author_email == email, _visible)
        .order_by(Comment.id.desc())
        .limit(TRUSTED_CANDIDATES)
    )
    for earlier_name, earlier_ip in rows:
        if earlier_name.casefold() != name.casefold():
            continue
        if verified_here or (earlier_ip is not None
                             and ipaddress.ip_address(earlier_ip) in network):
            return True
    return False


def public_status(comment: Comment) -> str:
    """What the author is told: approved, or pending for anything held (spam included)."""
    return "approved" if comment.status is CommentStatus.APPROVED else "pending"


def _place_reply(article_id: str, parent_id: int | None, max_depth: int):
    """(parent_id, thread_id, depth) of a new comment; a reply that would nest deeper than
    max_depth is listed under the ancestor whose replies sit at max_depth."""
    if parent_id is None:
        return None, None, 0
    parent = db.session.get(Comment, parent_id)
    if (
        parent is None
        or parent.article_id != article_id
        or parent.status is not CommentStatus.APPROVED
        or parent.deleted
    ):
        raise InvalidInput.field("parent_id", "Not a published comment of this article.")
    while parent.depth >= max_depth:
        parent = db.session.get(Comment, parent.parent_id)
    return parent.id, parent.thread_id or parent.id, parent.depth + 1


def edit_comment(comment: Comment, body: str, *, now: datetime, policy: CommentPolicy) -> None:
    """The author's new text (the comment as `authored_comment` found it)."""
    article = db.session.get(Article, comment.article_id)
    if not comments_are_open(article, policy.articles, now):
        raise CommentsClosed()
    body_html = render_markdown(body)
    held_for = hold_reasons(policy.moderation, body, body_html, first_time=False, edited=True)

    def edit(comment: Comment) -> None:
        comment.body, comment.body_html, comment.edited_at = body, body_html, now
        comment.approved_by_moderator = False  # the moderator approved the text before
        if held_for and comment.status is CommentStatus.APPROVED:
            comment.status = CommentStatus.PENDING
            comment.held_for = held_for

    decide_comments([comment], edit)


def delete_comment(comment: Comment, *, now: datetime) -> None:
    """The author's delete (of the comment as `authored_comment` found it): the text goes at
    once; a comment with visible replies stays listed as a placeholder so the thread still
    reads."""

    def delete(comment: Comment) -> None:
        erase_text(comment, now)
        forget_author(comment)

    decide_comments([comment], delete)


def erase_comment(comment: Comment, now: datetime) -> None:
    """Delete a comment's text; it stays listed as a placeholder while it has visible replies."""
    erase_comments([comment], now)


def erase_comments(found: list[Comment], now: datetime) -> None:
    """`erase_comment` of many (a moderator's bulk delete), in statements that do not grow
    with them."""
    decide_comments(found, lambda comment: erase_text(comment, now))


def erase_text(comment: Comment, now: datetime) -> None:
    comment.deleted_at = now
    comment.body = ""
    comment.body_html = ""


# What an erased author's comments are listed under.
ERASED_AUTHOR = "Deleted"


def forget_author(comment: Comment) -> None:
    """Nothing of the author stays on the comment: name, email, avatar, website, address. A
    decision for `decide_comments`, whose new version shows the comment under its new name."""
    comment.author_name = ERASED_AUTHOR
    comment.author_email = ""
    comment.avatar = ""
    comment.author_website = None
    comment.client_ip = None


def forget_client_addresses(before: datetime) -> int:
    """Erase the stored client address of comments made before a moment (retention)."""
    return db.session.execute(
        sa.update(Comment)
        .where(Comment.created_at <= before, Comment.client_ip.is_not(None))
        .values(client_ip=None)
        .execution_options(synchronize_session=False)
    ).rowcount


# --- Moderators' transitions ----------------------------------------------------------------

def comment_by_id(comment_id: int) -> Comment:
    """A comment about to change, its row locked until the commit: the change to its
    article's count is decided from a state no concurrent change can alter meanwhile."""
    comment = _locked(comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    return comment


def comments_by_id(comment_ids: Iterable[int]) -> list[Comment]:
    """The comments that exist among these ids, locked like `comment_by_id`, in id order."""
    return db.session.scalars(
        sa.select(Comment).where(Comment.id.in_(set(comment_ids))).order_by(Comment.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).all()


def _locked(comment_id: int) -> Comment | None:
    # FOR NO KEY UPDATE: a reply being placed below the comment (which has taken the article,
    # as decide_comments will) checks its foreign keys with a lock this one does not block.
    return db.session.get(Comment, comment_id, with_for_update={"key_share": True},
                          populate_existing=True)


def approve(comment: Comment) -> None:
    """Publish; the moderator's word settles every hold and flag so far, and it takes the
    larger flag threshold to hide the comment again."""
    comment.status = CommentStatus.APPROVED
    comment.held_for = []
    comment.flag_count = 0
    comment.approved_by_moderator = True


def reject(comment: Comment) -> None:
    comment.status = CommentStatus.REJECTED


def mark_spam(comment: Comment) -> None:
    comment.status = CommentStatus.SPAM


def decide_comments(found: list[Comment], decision: Callable[[Comment], None]) -> None:
    """A `decision` (approve, reject, mark_spam, erase, an author's edit) on comments: each of
    their articles gets one new version, and its count moves by what the change did to what
    its threads show (hiding a comment hides the replies below it), however many of its
    comments were decided. The articles are locked first, so that a reply placed at the same
    time is counted by one of the two."""
    articles = sorted({comment.article_id for comment in found})  # one order: no deadlock
    _lock_articles(articles)
    threads = {comment.thread_id or comment.id for comment in found}
    shown_before = _shown_in_threads(threads)
    tops_before = Counter(c.article_id for c in found if c.thread_id is None and _counted(c))
    for comment in found:
        decision(comment)
    db.session.flush()
    shown_after = _shown_in_threads(threads)
    tops_after = Counter(c.article_id for c in found if c.thread_id is None and _counted(c))
    for article_id in articles:
        bump_article_version(article_id,
                             comments=shown_after[article_id] - shown_before[article_id],
                             top_level=tops_after[article_id] - tops_before[article_id])


def _lock_articles(article_ids: list[str]) -> None:
    """Take the articles' rows for this transaction (on SQLite, the write lock)."""
    db.session.execute(sa.update(Article).where(Article.id.in_(article_ids))
                       .values(version=Article.version)
                       .execution_options(synchronize_session=False))


def shown_walk(tops: sa.ColumnElement[bool]) -> sa.CTE:
    """The comments readers see below the top-level comments `tops` selects, and those tops:
    down from each approved top through approved replies alone, as `_threads` nests them
    (deleted ones too, which stay as placeholders; they are not counted)."""
    walk = (
        sa.select(Comment.id, Comment.id.label("top_id"), Comment.article_id,
                  Comment.deleted_at)
        .where(tops, Comment.thread_id.is_(None), _visible)
        .cte("shown", recursive=True)
    )
    reply = sa.orm.aliased(Comment)
    return walk.union_all(
        sa.select(reply.id, walk.c.top_id, reply.article_id, reply.deleted_at)
        .where(reply.thread_id == walk.c.top_id, reply.parent_id == walk.c.id,
               reply.status == CommentStatus.APPROVED))


def shown_counts(tops: sa.ColumnElement[bool]) -> sa.Subquery:
    """(article_id, shown): per article, the comments readers see in the threads of the tops
    selected, deleted ones left out: what `comment_count` counts."""
    walk = shown_walk(tops)
    return (sa.select(walk.c.article_id, sa.func.count().label("shown"))
            .where(walk.c.deleted_at.is_(None)).group_by(walk.c.article_id).subquery())


def _shown_in_threads(top_ids: set[int]) -> Counter:
    """{article id: comments readers see} in the threads of these top-level comments."""
    return Counter(dict(db.session.execute(sa.select(shown_counts(Comment.id.in_(top_ids))))
                        .all()))


def ancestors_approved(comment: Comment) -> bool:
    """Whether every comment above `comment` is approved: the rule by which a reply shows in
    its thread (when it is approved itself), whatever its depth."""
    if comment.parent_id is None:
        return True
    above = (sa.select(Comment.parent_id, Comment.status).where(Comment.id == comment.parent_id)
             .cte("above", recursive=True))
    parent = sa.orm.aliased(Comment)
    above = above.union_all(sa.select(parent.parent_id, parent.status)
                            .where(parent.id == above.c.parent_id))
    hidden = sa.select(above).where(above.c.status != CommentStatus.APPROVED).exists()
    return not db.session.scalar(sa.select(hidden))


def claim_announcements(found: list[Comment], now: datetime) -> set[int]:
    """The ids of the public comments among `found` whose publication this call is the first
    to announce (reply emails); one UPDATE, so the database settles two moderators approving
    at once."""
    public = [comment.id for comment in found
              if comment.status is CommentStatus.APPROVED and not comment.deleted]
    if not public:
        return set()
    db.session.flush()
    return set(db.session.scalars(
        sa.update(Comment).where(Comment.id.in_(public), Comment.announced_at.is_(None))
        .values(announced_at=now).returning(Comment.id)
        .execution_options(synchronize_session=False)
    ))


def pin_comment(comment: Comment, pinned: bool) -> None:
    comment.pinned = pinned
    db.session.flush()
    bump_article_version(comment.article_id)  # what shows is the same, in another order


def _counted(comment: Comment) -> bool:
    """Whether the comment is one its article counts, if what is above it shows: approved and
    not deleted."""
    return comment.status is CommentStatus.APPROVED and comment.deleted_at is None


def authored_comment(comment_id: int, edit_token: str | None, *, now: datetime,
                     policy: CommentPolicy) -> Comment:
    """The comment its author may still change (the edit token matches, the window is open,
    no moderator removed it), locked until the commit."""
    comment = _locked(comment_id)
    if comment is None or comment.deleted:
        raise NotFound("No such comment.")
    if not edit_token or not hmac.compare_digest(comment.edit_token_hash, hash_token(edit_token)):
        if comment.status is not CommentStatus.APPROVED:
            # Without its token a comment the public cannot see answers as one that does not
            # exist: a 403 would confirm that a held or removed comment is there.
            raise NotFound("No such comment.")
        raise InvalidToken("The edit token does not match this comment.")
    if comment.status in (CommentStatus.REJECTED, CommentStatus.SPAM) and not caught_by_honeypot(
            comment):
        raise Forbidden("A moderator removed this comment: it can no longer be changed.")
    if now >= comment.created_at + policy.edit_window:
        raise EditWindowExpired()
    return comment


def caught_by_honeypot(comment: Comment) -> bool:
    """Spam that only the hidden field caught: its author, a bot, is answered as the author of
    a held comment in everything (its edits are kept, still as spam), so that nothing tells it
    about the trap."""
    return comment.status is CommentStatus.SPAM and "honeypot" in comment.held_for


def published_comment(comment_id: int) -> Comment:
    """A comment the public list shows, or NotFound."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.deleted or comment.status is not CommentStatus.APPROVED:
        raise NotFound("No such comment.")
    return comment


def count_flag(comment_id: int, rules: ModerationRules) -> Comment | None:
    """Add a reader's flag; at the threshold (the larger one for a comment a moderator
    approved) the comment is hidden as `flagged` (and returned, to this flag only). The count
    is incremented in the row, so concurrent flags queue and the last one sees the total."""
    flag_count = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment_id)
        .values(flag_count=Comment.flag_count + 1)
        .returning(Comment.flag_count)
    ).scalar_one()
    comment = db.session.get(Comment, comment_id, populate_existing=True)
    threshold = rules.flags_to_hide(comment.approved_by_moderator)
    if flag_count >= threshold and comment.status is CommentStatus.APPROVED:
        decide_comments([comment], _hide_for_flags)
        return comment
    return None


def _hide_for_flags(comment: Comment) -> None:
    comment.status = CommentStatus.FLAGGED
    comment.held_for = [*comment.held_for, "flags"]


# --- The public list ------------------------------------------------------------------------

_visible = Comment.status == CommentStatus.APPROVED


def comment_activity(since: datetime) -> sa.Select:
    """(article_id, comments, shares=0) for visible comments posted since a moment."""
    return (
        sa.select(Comment.article_id, sa.func.count().label("comments"),
                  sa.literal(0).label("shares"))
        .where(Comment.created_at >= since, _visible, Comment.deleted_at.is_(None))
        .group_by(Comment.article_id)
    )


# What a thread shows and pages by: its rows load nothing else (not the Markdown source, the
# author's email or the moderation notes), and reading anything else is a bug, not a query.
_THREAD_COLUMNS = sa.orm.load_only(
    Comment.id, Comment.parent_id, Comment.thread_id, Comment.status, Comment.author_name,
    Comment.author_website, Comment.avatar, Comment.body_html, Comment.created_at,
    Comment.edited_at, Comment.deleted_at, Comment.pinned, Comment.vote_score, Comment.upvotes,
    Comment.downvotes, raiseload=True,
)


def list_comments(
    article_id: str, *, order: str, limit: int, cursor: list | None
) -> dict[str, Any]:
    """One page of top-level comments (pinned first, then by age), each with its visible
    replies nested oldest first; `cursor` as the previous page gave it (422 if not ours).
    Three queries per page, whatever the size of the threads: the total is the article's
    counter of top-level comments and its placeholders, few (read through the index of
    deleted tops)."""
    placeholders = _placeholders_kept(article_id)
    top_level = sa.select(Comment).options(_THREAD_COLUMNS).where(
        Comment.article_id == article_id,
        Comment.thread_id.is_(None),
        _visible,
        sa.or_(Comment.deleted_at.is_(None), Comment.id.in_(placeholders)),
    )
    # The total from counters, not from counting the thread.
    counted = sa.select(Article.top_level_count).where(Article.id == article_id)
    kept = sa.select(sa.func.count()).select_from(placeholders.subquery())
    total = db.session.scalar(
        sa.select(sa.func.coalesce(counted.scalar_subquery(), 0) + kept.scalar_subquery()))
    page = THREAD_ORDERS[order].page(top_level, limit, cursor, total=total)
    rows = page["items"]
    replies = db.session.scalars(
        sa.select(Comment).options(_THREAD_COLUMNS)
        .where(Comment.thread_id.in_([row.id for row in rows]), _visible)
        .order_by(Comment.id)
    ).all() if rows else []
    return {**page, "items": _threads(rows, replies)}


def _placeholders_kept(article_id: str) -> sa.Select:
    """Ids of the article's deleted top-level comments that something visible hangs below,
    each once: the walk of what the thread shows (`shown_walk`), started from the deleted tops
    alone, read through their own index (few, however long the thread)."""
    walk = shown_walk(sa.and_(Comment.article_id == article_id,
                              Comment.deleted_at.is_not(None)))
    return sa.select(walk.c.top_id).where(walk.c.deleted_at.is_(None)).distinct()


# Pinned first, then by age, or best first (Wilson lower bound of the votes, ties newest first).
THREAD_ORDERS = {
    "oldest": Pager(BoolKey(Comment.pinned, descending=True), IdKey(Comment.id)),
    "newest": Pager(BoolKey(Comment.pinned, descending=True), IdKey(Comment.id, descending=True)),
    "best": Pager(BoolKey(Comment.pinned, descending=True),
                  ScoreKey(Comment.vote_score, descending=True),
                  IdKey(Comment.id, descending=True)),
}


def _threads(top_level: list[Comment], replies: list[Comment]) -> list[RowView]:
    """Nest replies under their parents. A reply whose parent is not visible is hidden with it;
    a deleted comment stays as a placeholder only while something visible hangs below it."""
    nodes = {comment.id: public_comment(comment) for comment in top_level}
    _nest(nodes, replies)
    return [node for node in (nodes[c.id] for c in top_level) if _prune(node)]


def thread_below(comment: Comment) -> RowView:
    """A comment as its thread shows it, with its visible replies nested (an edit's answer)."""
    node = public_comment(comment)
    if comment.status is CommentStatus.APPROVED:
        _nest({comment.id: node}, db.session.scalars(
            sa.select(Comment).options(_THREAD_COLUMNS)
            .where(Comment.thread_id == (comment.thread_id or comment.id),
                   Comment.id > comment.id, _visible)
            .order_by(Comment.id)))
        node.replies = [child for child in node.replies if _prune(child)]
    return node


def _nest(nodes: dict[int, RowView], replies: Iterable[Comment]) -> None:
    for comment in replies:  # by id, so a parent always comes before its replies
        parent = nodes.get(comment.parent_id)
        if parent is not None:
            nodes[comment.id] = public_comment(comment)
            parent.replies.append(nodes[comment.id])


def _prune(node: RowView) -> bool:
    """Whether the node stays listed; its replies pruned too, a pinned one first among them."""
    node.replies = sorted((child for child in node.replies if _prune(child)),
                          key=lambda child: not child.pinned)
    return not node.deleted or bool(node.replies)


def public_comment(comment: Comment) -> RowView:
    """A comment as the public sees it (CommentOut), its replies filled in by the thread."""
    return RowView(comment, **shown_publicly(comment), replies=[])


def shown_publicly(comment: Comment) -> dict[str, Any]:
    """What the public sees of a comment other than its row's values: nothing of the author or
    the text of a deleted one, and no avatar for one that is not public (guessing its author's
    email must not confirm who wrote it)."""
    public = comment.status is CommentStatus.APPROVED and not comment.deleted
    hidden = {"author_name": None, "author_website": None, "body_html": ""}
    return {"avatar": comment.avatar if public else "", **(hidden if comment.deleted else {})}

