"""Marshmallow fields and schemas that every feature's In/Out schemas share: text that a
database can store, UTC timestamps written with `Z`, and the cursor-paginated list envelope."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email

# NUL and lone surrogates cannot be stored (PostgreSQL refuses both); other C0 controls but
# tab and newline have no place in reader text.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]")


class Text(ma.fields.String):
    """A string without NUL, lone surrogates or control characters; tab and newline too are
    refused in a `single_line` field (a name)."""

    default_error_messages = {
        "unstorable": "Contains characters that are not allowed.",
        "multi_line": "Must be a single line.",
    }

    def __init__(self, *, single_line: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.single_line = single_line

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _UNSTORABLE.search(text):
            raise self.make_error("unstorable")
        if self.single_line and _LINE_BREAKS.search(text):
            raise self.make_error("multi_line")
        return text


class Email(Text):
    """An email address checked and normalised by email-validator (no DNS look-up)."""

    default_error_messages = {"invalid": "Not a valid email address."}

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "email")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 320:
            raise self.make_error("invalid")
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            raise self.make_error("invalid") from None


class Timestamp(ma.fields.DateTime):
    """ISO 8601 in UTC with `Z`; input must carry an offset."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise ma.ValidationError("Give an offset, such as Z or +01:00.")
        return parsed.astimezone(UTC)


class Cursor(ma.fields.String):
    """An opaque page cursor: base64url of a JSON list of the last row's sort keys."""

    default_error_messages = {"invalid": "Not a cursor this service gave out."}

    @staticmethod
    def encode(keys: list[Any]) -> str:
        raw = json.dumps(keys, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # `?cursor=` with nothing after it is the first page, as a widget may well send it.
        return super().deserialize(None if value == "" else value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            keys = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error, RecursionError):
            raise self.make_error("invalid") from None
        if not isinstance(keys, list) or len(keys) > 4:
            raise self.make_error("invalid")
        return keys


class PageArgs(ma.Schema):
    """?limit= (1..100, default 20) and ?cursor= from the previous page."""

    limit = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(1, 100), metadata={"description": "1..100"}
    )
    cursor = Cursor(load_default=None, allow_none=True)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list envelope: items, the next page's cursor (null on the last page) and the total."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(allow_none=True),
            "total": ma.fields.Integer(),
        },
        name=name,
    )
