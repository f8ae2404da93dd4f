"""Moderation rules in force, and readers' flags. Functions flush; the route commits."""

from __future__ import annotations

from datetime import datetime

from engagement.comments import services as comments
from engagement.database import insert_if_absent
from engagement.extensions import db
from engagement.moderation.models import Flag, FlagReason, ModerationSettings
from engagement.moderation.rules import ModerationRules


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
