"""Moderation rules in force, and readers' flags. Functions flush; the route commits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engagement.admin.services import audit
from engagement.comments import services as comments
from engagement.comments.models import Comment, CommentStatus
from engagement.database import insert_if_absent, upsert
from engagement.extensions import db
from engagement.moderation.models import Flag, FlagReason, ModerationSettings
from engagement.moderation.rules import ModerationRules
from engagement.pagination import page_by_id


def moderation_rules(config) -> ModerationRules:
    """The settings moderators set at run time, else the ENGAGEMENT_* starting values."""
    row = db.session.get(ModerationSettings, 1)
    if row is None:
        return ModerationRules(
            mode=config["MODERATION_MODE"],
            max_links=config["MAX_LINKS"],
            blocked_words=tuple(config["BLOCKED_WORDS"]),
            flag_threshold=config["FLAG_THRESHOLD"],
        )
    return ModerationRules(
        mode=row.moderation_mode,
        max_links=row.max_links,
        blocked_words=tuple(row.blocked_words),
        flag_threshold=row.flag_threshold,
    )


def flag_comment(
    comment_id: int, reason: FlagReason, note: str | None, *, client_hash: str, now: datetime,
    rules: ModerationRules,
) -> None:
    """Record one client's flag on a published comment (a repeat changes nothing); at the
    threshold the comment leaves the public list and waits for a moderator as `flagged`."""
    comments.published_comment(comment_id)
    first_from_client = insert_if_absent(
        db.session,
        Flag,
        {"comment_id": comment_id, "client_hash": client_hash, "reason": reason.value,
         "note": note, "created_at": now},
    )
    if first_from_client:
        comments.count_flag(comment_id, rules.flag_threshold)


# --- The moderators' queue ------------------------------------------------------------------

def moderation_queue(
    *, status: str, article: str | None, q: str | None, limit: int, cursor: list | None,
    now: datetime, ip_retention_days: int,
) -> dict[str, Any]:
    """Comments for moderators, newest first, with their private fields and flags."""
    query = sa.select(Comment)
    if status != "all":
        query = query.where(Comment.status == CommentStatus(status))
    if article:
        query = query.where(Comment.article_id == article)
    if q:
        query = query.where(sa.or_(*(
            sa.func.lower(column).contains(q.lower(), autoescape=True)
            for column in (Comment.body, Comment.author_name, Comment.author_email)
        )))
    page = page_by_id(query, Comment.id, limit, cursor)
    flags = _flags_of([comment.id for comment in page["items"]])
    retained_since = now - timedelta(days=ip_retention_days)
    page["items"] = [
        admin_comment(comment, flags.get(comment.id, []), retained_since)
        for comment in page["items"]
    ]
    return page


def _flags_of(comment_ids: list[int]) -> dict[int, list[Flag]]:
    by_comment: dict[int, list[Flag]] = {}
    if comment_ids:
        rows = db.session.scalars(
            sa.select(Flag).where(Flag.comment_id.in_(comment_ids)).order_by(Flag.created_at)
        )
        for flag in rows:
            by_comment.setdefault(flag.comment_id, []).append(flag)
    return by_comment


def admin_comment(comment: Comment, flags: list[Flag], retained_since: datetime) -> dict:
    """A comment as moderators see it: the public fields and the private ones."""
    return {
        **comments.public_comment(comment),
        "article_id": comment.article_id,
        "status": comment.status.value,
        "author_email": comment.author_email,
        "client_ip": comment.client_ip if comment.created_at > retained_since else None,
        "flag_count": comment.flag_count,
        "flags": [{"reason": flag.reason.value, "note": flag.note,
                   "created_at": flag.created_at} for flag in flags],
        "held_for": comment.held_for,
    }


DECIDE = {
    "approved": comments.approve_comment,
    "rejected": comments.reject_comment,
    "spam": comments.mark_spam,
}


def decide(comment_id: int, *, status: str | None, pinned: bool | None, actor: str,
           now: datetime, ip_retention_days: int) -> dict:
    """A moderator's decision on one comment (approving clears its flags), audited."""
    comment = comments.comment_by_id(comment_id)
    changes = {}
    if status is not None:
        _apply(comment, status)
        changes["status"] = status
    if pinned is not None:
        comments.pin_comment(comment, pinned)
        changes["pinned"] = pinned
    audit(actor, "comment.moderate", f"comment:{comment_id}", changes, now=now)
    db.session.flush()
    retained_since = now - timedelta(days=ip_retention_days)
    return admin_comment(comment, _flags_of([comment_id]).get(comment_id, []), retained_since)


def _apply(comment: Comment, status: str) -> None:
    DECIDE[status](comment)
    if status == "approved":
        db.session.execute(sa.delete(Flag).where(Flag.comment_id == comment.id))


def remove(comment_id: int, *, actor: str, now: datetime) -> None:
    comments.erase_comment(comments.comment_by_id(comment_id), now)
    audit(actor, "comment.delete", f"comment:{comment_id}", now=now)


BULK = {"approve": "approved", "reject": "rejected", "spam": "spam"}


def bulk(ids: list[int], action: str, *, actor: str, now: datetime) -> int:
    """The same decision on many comments; ids that do not exist are skipped and not counted."""
    found = db.session.scalars(sa.select(Comment).where(Comment.id.in_(set(ids)))).all()
    for comment in found:
        if action == "delete":
            comments.erase_comment(comment, now)
        else:
            _apply(comment, BULK[action])
    audit(actor, f"comment.bulk_{action}", "comments",
          {"ids": sorted(comment.id for comment in found)}, now=now)
    db.session.flush()
    return len(found)


def update_settings(changes: dict[str, Any], config, *, actor: str, now: datetime) -> dict:
    """Change the live settings; the first change stores the ENGAGEMENT_* values it starts from."""
    current = asdict(moderation_rules(config))
    merged = {
        "moderation_mode": changes.get("moderation_mode", current["mode"]),
        "max_links": changes.get("max_links", current["max_links"]),
        "blocked_words": list(changes.get("blocked_words", current["blocked_words"])),
        "flag_threshold": changes.get("flag_threshold", current["flag_threshold"]),
    }
    upsert(db.session, ModerationSettings, {"id": 1, **merged, "updated_at": now},
           update={**merged, "updated_at": now})
    audit(actor, "settings.update", "settings", changes, now=now)
    db.session.flush()
    return merged


def settings_view(config) -> dict:
    rules = moderation_rules(config)
    return {"moderation_mode": rules.mode, "max_links": rules.max_links,
            "blocked_words": list(rules.blocked_words), "flag_threshold": rules.flag_threshold}
