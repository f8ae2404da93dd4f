"""Cursor pagination, as docs/api.md's lists have it: `?limit=` and an opaque `?cursor=`, answered
with `{"items", "next_cursor", "total"}`. Cursors carry the sort keys of the last row seen, so
rows added while a client pages neither repeat nor shift."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from engagement.errors import InvalidInput
from engagement.extensions import db
from engagement.http import MAX_DB_INT


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


def page_by_id(
    query: sa.Select, id_column: sa.ColumnElement[int], limit: int, cursor: list | None,
    *, newest_first: bool = True,
) -> dict[str, Any]:
    """One page of `query`, newest (highest id) first unless `newest_first` is false; `total`
    counts the whole list."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if cursor is not None:
        if len(cursor) != 1 or type(cursor[0]) is not int or not 0 < cursor[0] <= MAX_DB_INT:
            raise InvalidInput.field("cursor", "Not a cursor this service gave out.", "query")
        query = query.where(id_column < cursor[0] if newest_first else id_column > cursor[0])
    order = id_column.desc() if newest_first else id_column.asc()
    rows = db.session.scalars(query.order_by(order).limit(limit + 1)).all()
    next_cursor = Cursor.encode([rows[limit - 1].id]) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor, "total": total}
