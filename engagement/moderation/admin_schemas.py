"""Moderators' In/Out schemas: the queue with private fields, decisions, settings, audit."""

import marshmallow as ma

from engagement.comments.models import CommentStatus
from engagement.comments.schemas import CommentOut
from engagement.fields import QueryInteger, StrictBoolean, Text, Timestamp
from engagement.http import MAX_DB_INT, article_id_from
from engagement.moderation.rules import MODES, normalise
from engagement.pagination import PageArgs, page_schema

QUEUE_STATUSES = [*(status.value for status in CommentStatus), "all"]
HOLD_REASONS = ["mode", "first_time", "links", "blocked_word", "flags", "honeypot", "edited"]
DECISIONS = ["approved", "rejected", "spam"]
BULK_ACTIONS = ["approve", "reject", "spam", "delete"]


class StatusList(ma.fields.String):
    """`pending`, or several statuses separated by commas (`pending,flagged`), or `all`."""

    def _deserialize(self, value, attr, data, **kwargs):
        statuses = super()._deserialize(value, attr, data, **kwargs).split(",")
        if not set(statuses) <= set(QUEUE_STATUSES) or ("all" in statuses and len(statuses) > 1):
            raise ma.ValidationError(
                f"One of {', '.join(QUEUE_STATUSES)}, or several separated by commas.")
        return statuses


class QueueArgs(PageArgs):
    status = StatusList(
        load_default=["pending"],
        metadata={"description": "pending (default), flagged, approved, rejected, spam or all; "
                                 "several separated by commas: `pending,flagged` is the whole "
                                 "review queue"},
    )
    reason = ma.fields.String(load_default=None, validate=ma.validate.OneOf(HOLD_REASONS),
                              metadata={"description": "Only comments held for this reason"})
    article = Text(load_default=None, validate=ma.validate.Length(1, 200))
    q = Text(load_default=None, validate=ma.validate.Length(1, 200),
             metadata={"description": "Text in the body, author name or email"})
    order = ma.fields.String(load_default="newest",
                             validate=ma.validate.OneOf(["newest", "oldest"]))
    id = QueryInteger(
        load_default=None, validate=ma.validate.Range(1, MAX_DB_INT),
        metadata={"description": "Only this comment, if the other filters keep it (the "
                                 "console's `/admin/?comment=<id>`, the link of alerts, "
                                 "asks with `status=all`)"})

    @ma.post_load
    def _article_as_stored(self, data, **kwargs):
        """`%D8%A7` and `ا` find the article kept as `%d8%a7`, as they do in a path."""
        if data.get("article"):
            data["article"] = article_id_from(data["article"]) or data["article"]
        return data


class FlagOut(ma.Schema):
    reason = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    created_at = Timestamp()


class ParentOut(ma.Schema):
    id = ma.fields.Integer()
    author_name = ma.fields.String(allow_none=True)
    body_html = ma.fields.String()
    status = ma.fields.String()
    deleted = ma.fields.Boolean()


class AuthorHistoryOut(ma.Schema):
    approved = ma.fields.Integer()
    rejected = ma.fields.Integer()
    spam = ma.fields.Integer()


class AdminCommentOut(CommentOut):
    class Meta:
        exclude = ("replies",)

    article_id = ma.fields.String()
    status = ma.fields.String()
    author_email = ma.fields.String()
    client_ip = ma.fields.String(allow_none=True,
                                 metadata={"description": "null after IP_RETENTION_DAYS"})
    flag_count = ma.fields.Integer()
    flags = ma.fields.List(ma.fields.Nested(FlagOut))
    held_for = ma.fields.List(ma.fields.String(metadata={"enum": HOLD_REASONS}))
    # The context a moderator decides with.
    article_title = ma.fields.String(allow_none=True)
    article_url = ma.fields.String(allow_none=True)
    parent = ma.fields.Nested(ParentOut, allow_none=True,
                              metadata={"description": "The comment this one replies to"})
    author_history = ma.fields.Nested(
        AuthorHistoryOut,
        metadata={"description": "The author's other comments (same email), by status"},
    )
    author_banned = ma.fields.Boolean(
        metadata={"description": "An active ban matches the author's email or address"})


AdminCommentPageOut = page_schema(AdminCommentOut, "AdminCommentPage")


class DecisionIn(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(DECISIONS))
    pinned = StrictBoolean()

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give a status, pinned, or both.")


class BulkIn(ma.Schema):
    ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(1, MAX_DB_INT)),
        required=True, validate=ma.validate.Length(1, 500),
    )
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(BULK_ACTIONS))


class BulkOut(ma.Schema):
    updated = ma.fields.Integer()


class SettingsIn(ma.Schema):
    moderation_mode = ma.fields.String(validate=ma.validate.OneOf(MODES))
    max_links = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 1000))
    blocked_words = ma.fields.List(
        Text(single_line=True, validate=ma.validate.Length(1, 100)),
        validate=ma.validate.Length(max=1000),
    )
    flag_threshold = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 1000))

    @ma.post_load
    def one_rule_per_word(self, data, **kwargs):
        """Blocked words are matched as readers see them (rules.normalise: case, accents and
        width folded): of spellings a reader cannot tell apart, the first is kept."""
        if "blocked_words" in data:
            kept: dict[str, str] = {}
            for word in data["blocked_words"]:
                kept.setdefault(normalise(word).strip(), word)
            data["blocked_words"] = list(kept.values())
        return data


class SettingsOut(SettingsIn):
    """The rules in force (moderation.rules.ModerationRules)."""

    moderation_mode = ma.fields.String(attribute="mode", metadata={"enum": list(MODES)})


class AuditArgs(PageArgs):
    actor = Text(load_default=None, single_line=True, validate=ma.validate.Length(1, 80),
                 metadata={"description": "The token holder's name"})
    action = Text(
        load_default=None, single_line=True, validate=ma.validate.Length(1, 64),
        metadata={"description": "An action (`comment.moderate`), or its family before the dot "
                                 "(`comment` finds every `comment.*`)"},
    )
    target = Text(load_default=None, single_line=True, validate=ma.validate.Length(1, 300),
                  metadata={"description": "What was changed, as the entries name it "
                                           "(`comment:12`, `article:a-slug`, `settings`)"})


class AuditEntryOut(ma.Schema):
    at = Timestamp()
    actor = ma.fields.String()
    action = ma.fields.String()
    target = ma.fields.String()
    details = ma.fields.Dict()


AuditPageOut = page_schema(AuditEntryOut, "AuditPage")
