"""Vote rules: which comments take votes, one vote per reader and comment (a new value replaces
the old, 0 withdraws it), the comment's tallies and best-first score changed with each vote, and
a reader's own votes on an article. Functions flush; the route commits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.articles.services import (
    ArticlePolicy,
    article_known,
    bump_article_version,
    comments_are_open,
)
from engagement.clients import reader_bounds, room_for_reader
from engagement.comments.models import Comment, CommentStatus
from engagement.errors import CommentsClosed, InvalidInput, NotFound
from engagement.extensions import db
from engagement.votes.models import Vote

VOTE_MODES = ("updown", "up", "off")
# 95% confidence: the usual choice for ranking by the Wilson score interval.
WILSON_Z = 1.959964


@dataclass(frozen=True)
class VotePolicy:
    articles: ArticlePolicy
    mode: str  # updown, up (no downvotes) or off

    @classmethod
    def from_config(cls, config) -> VotePolicy:
        return cls(articles=ArticlePolicy.from_config(config), mode=config["VOTES"])


@dataclass(frozen=True)
class Tally:
    upvotes: int
    downvotes: int
    value: int  # the reader's vote now: 1, -1 or 0


def wilson_lower_bound(upvotes: int, downvotes: int) -> float:
    """The lower bound of the Wilson score interval of the share of upvotes: a comment with
    few votes ranks below one with many at the same share (0 without votes)."""
    total = upvotes + downvotes
    if total == 0:
        return 0.0
    share = upvotes / total
    z2 = WILSON_Z * WILSON_Z
    spread = WILSON_Z * math.sqrt((share * (1 - share) + z2 / (4 * total)) / total)
    return (share + z2 / (2 * total) - spread) / (1 + z2 / total)


def refuse_votes_off(policy: VotePolicy) -> None:
    if policy.mode == "off":
        raise NotFound("Votes are off on this site.")


_takes_votes = sa.and_(Comment.status == CommentStatus.APPROVED, Comment.deleted_at.is_(None))


def cast_vote(comment_id: int, value: int, *, client_hash: str, now: datetime,
              policy: VotePolicy) -> Tally:
    """Record a reader's vote (replacing theirs, or withdrawing it with 0) and change the
    comment's tallies by the difference. One address votes as at most READERS_PER_ADDRESS
    readers on a comment, however many user agents it sends: a further reader's vote counts
    nothing, and is answered with the tallies and 0.

    The first statement writes to the comment row, so concurrent votes on one comment queue
    there (a row lock on PostgreSQL, the write lock on SQLite) and each reads the reader's
    previous vote and the address's other readers after the one before it committed: nothing
    is lost or counted twice, and no address gets past its readers."""
    refuse_votes_off(policy)
    if value == -1 and policy.mode == "up":
        raise InvalidInput.field("value", "Only upvotes are taken on this site.")
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.deleted or comment.status is not CommentStatus.APPROVED:
        raise NotFound("No such comment.")
    if not comments_are_open(db.session.get(Article, comment.article_id), policy.articles, now):
        raise CommentsClosed()
    locked = db.session.execute(
        sa.update(Comment).where(Comment.id == comment_id, _takes_votes)
        .values(upvotes=Comment.upvotes)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not locked:  # hidden or deleted meanwhile
        raise NotFound("No such comment.")
    mine = sa.and_(Vote.comment_id == comment_id, Vote.client_hash == client_hash)
    previous, room = db.session.execute(
        sa.select(sa.select(Vote.value).where(mine).scalar_subquery(),
                  room_for_reader(Vote.client_hash, Vote.comment_id == comment_id)),
        reader_bounds(client_hash),
    ).one()
    previous = previous or 0
    if value == previous:  # a repeat changes nothing
        return _tally(comment_id, value)
    if not previous and not room:  # the address has its readers: this one counts nothing
        return _tally(comment_id, 0)
    if previous:
        db.session.execute(sa.delete(Vote).where(mine))
    if value:
        db.session.add(Vote(comment_id=comment_id, client_hash=client_hash,
                            article_id=comment.article_id, value=value, voted_at=now))
    up_change = int(value == 1) - int(previous == 1)
    down_change = int(value == -1) - int(previous == -1)
    up, down = db.session.execute(
        sa.update(Comment).where(Comment.id == comment_id)
        .values(upvotes=Comment.upvotes + up_change, downvotes=Comment.downvotes + down_change)
        .returning(Comment.upvotes, Comment.downvotes)
        .execution_options(synchronize_session=False)
    ).one()
    db.session.execute(
        sa.update(Comment).where(Comment.id == comment_id)
        .values(vote_score=wilson_lower_bound(up, down))
        .execution_options(synchronize_session=False)
    )
    bump_article_version(comment.article_id)  # the thread shows the tallies
    db.session.flush()
    return Tally(up, down, value)


def _tally(comment_id: int, value: int) -> Tally:
    up, down = db.session.execute(
        sa.select(Comment.upvotes, Comment.downvotes).where(Comment.id == comment_id)).one()
    return Tally(up, down, value)


def reader_votes(article_id: str, *, client_hash: str, policy: VotePolicy) -> dict[str, int]:
    """This reader's votes on an article's comments, by comment id."""
    refuse_votes_off(policy)
    if not article_known(article_id, policy.articles):
        raise NotFound("No such article.")
    rows = db.session.execute(
        sa.select(Vote.comment_id, Vote.value)
        .where(Vote.client_hash == client_hash, Vote.article_id == article_id))
    return {str(comment_id): value for comment_id, value in rows}
