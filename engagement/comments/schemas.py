"""Comment In/Out schemas. Emails, addresses and edit tokens of others never leave in an Out
schema; the author's own edit token leaves once, in the answer to their post."""

import marshmallow as ma
from flask import current_app

from engagement.fields import (
    Email,
    Language,
    NotBlank,
    StrictBoolean,
    Timestamp,
    WebUrl,
)
from engagement.http import MAX_DB_INT
from engagement.pagination import PageArgs, page_schema

BODY_RULES = (
    "Markdown, not blank, at most `ENGAGEMENT_COMMENT_MAX_LENGTH` characters (10000 by default); "
    "no control characters but tab and newline"
)


def _within_comment_length(value: str) -> None:
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if len(value) > limit:
        raise ma.ValidationError(f"Longer than {limit} characters.")


class CommentIn(ma.Schema):
    author_name = NotBlank(required=True, single_line=True, max_length=80,
                           metadata={"description": "One line, not blank"})
    author_email = Email(required=True, metadata={"description": "Never shown to readers"})
    author_website = WebUrl(load_default=None, allow_none=True)
    body = NotBlank(required=True, validate=_within_comment_length,
                    metadata={"description": BODY_RULES})
    parent_id = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ma.validate.Range(1, MAX_DB_INT)
    )
    notify_replies = StrictBoolean(
        load_default=False,
        metadata={"description": "Email me when someone replies (double opt-in the first "
                                 "time an address asks)"},
    )
    lang = Language(
        metadata={"description": "The reader's language (a BCP 47 tag such as `fr` or "
                                 "`ar-EG`) for reply emails; en, fr, de, es, ar and so ship, "
                                 "others get English"},
    )
    # The honeypot: hidden from readers, so only a bot fills it.
    website_url = ma.fields.Raw(load_default=None, allow_none=True, load_only=True)


class CommentEditIn(ma.Schema):
    body = NotBlank(required=True, validate=_within_comment_length,
                    metadata={"description": BODY_RULES})


class EditTokenHeader(ma.Schema):
    edit_token = ma.fields.String(
        data_key="X-Edit-Token",
        load_default=None,
        metadata={"description": "The `edit_token` the post answered (403 when missing)"},
    )


class CommentListArgs(PageArgs):
    order = ma.fields.String(
        load_default="oldest", validate=ma.validate.OneOf(["oldest", "newest", "best"]),
        metadata={"description": "best: by the lower bound of the Wilson score interval of "
                                 "the votes, ties newest first"},
    )


class CommentOut(ma.Schema):
    id = ma.fields.Integer()
    parent_id = ma.fields.Integer(allow_none=True)
    author_name = ma.fields.String(allow_none=True)
    author_website = ma.fields.String(allow_none=True)
    avatar = ma.fields.String(metadata={
        "description": "Keyed hash for identicons (of the email, or the name, per "
                       "`ENGAGEMENT_AVATARS`); empty for a comment that is not public"})
    body_html = ma.fields.String()
    created_at = Timestamp()
    edited_at = Timestamp(allow_none=True)
    pinned = ma.fields.Boolean()
    deleted = ma.fields.Boolean()
    upvotes = ma.fields.Integer()
    downvotes = ma.fields.Integer()
    replies = ma.fields.List(ma.fields.Nested(lambda: CommentOut()))


CommentPageOut = page_schema(CommentOut, "CommentPage")


class CommentEditedOut(ma.Schema):
    comment = ma.fields.Nested(CommentOut)
    status = ma.fields.String(metadata={"description": "approved, or pending when held"})


class CommentCreatedOut(CommentEditedOut):
    edit_token = ma.fields.String()
    edit_expires_at = Timestamp()
