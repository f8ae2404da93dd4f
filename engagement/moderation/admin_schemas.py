"""Moderators' In/Out schemas: the queue with private fields, decisions, settings, audit."""

import marshmallow as ma

from engagement.comments.models import CommentStatus
from engagement.comments.schemas import CommentOut
from engagement.fields import StrictBoolean, Text, Timestamp
from engagement.http import MAX_DB_INT, article_id_from
from engagement.moderation.rules import MODES
from engagement.pagination import PageArgs, page_schema

QUEUE_STATUSES = [*(status.value for status in CommentStatus), "all"]
DECISIONS = ["approved", "rejected", "spam"]
BULK_ACTIONS = ["approve", "reject", "spam", "delete"]


class QueueArgs(PageArgs):
    status = ma.fields.String(load_default="pending", validate=ma.validate.OneOf(QUEUE_STATUSES))
    article = Text(load_default=None, validate=ma.validate.Length(1, 200))
    q = Text(load_default=None, validate=ma.validate.Length(1, 200),
             metadata={"description": "Text in the body, author name or email"})

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
    held_for = ma.fields.List(ma.fields.String())


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


class SettingsSchema(ma.Schema):
    moderation_mode = ma.fields.String(validate=ma.validate.OneOf(MODES))
    max_links = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 1000))
    blocked_words = ma.fields.List(
        Text(single_line=True, validate=ma.validate.Length(1, 100)),
        validate=ma.validate.Length(max=1000),
    )
    flag_threshold = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 1000))


class AuditEntryOut(ma.Schema):
    at = Timestamp()
    actor = ma.fields.String()
    action = ma.fields.String()
    target = ma.fields.String()
    details = ma.fields.Dict()


AuditPageOut = page_schema(AuditEntryOut, "AuditPage")
