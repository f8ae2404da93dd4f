"""Cursor pagination, as docs/api.md's lists have it: `?limit=` and an opaque `?cursor=`, answered
with `{"items", "next_cursor", "total"}`. Cursors carry the sort keys of the last row seen, so
rows added while a client pages neither repeat nor shift. `Pager` is the one way every list
pages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from engagement.errors import InvalidInput
from engagement.extensions import db
from engagement.fields import QueryInteger
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

    limit = QueryInteger(
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


@dataclass(frozen=True)
class Key:
    """One sort key of a list: its column, its direction, and how its value travels in a
    cursor (`dump`) and is read back from one (`load`, None for what we never gave out)."""

    column: Any
    descending: bool = False

    def dump(self, value: Any) -> Any:
        return value

    def load(self, value: Any) -> Any:
        raise NotImplementedError

    def past(self, value: Any) -> sa.ColumnElement[bool] | None:
        """Rows that sort after `value` (None when none can)."""
        return self.column < value if self.descending else self.column > value

    def equal(self, value: Any) -> sa.ColumnElement[bool]:
        return self.column == value


class IdKey(Key):
    def load(self, value):
        return value if type(value) is int and 0 < value <= MAX_DB_INT else None


class BoolKey(Key):
    def load(self, value):
        return value if isinstance(value, bool) else None

    def past(self, value):
        # Nothing sorts past false first or true last: no branch, so that the database reads
        # one range of an index.
        return None if value is not self.descending else self.column.is_(not value)

    def equal(self, value):
        return self.column.is_(value)


class ScoreKey(Key):
    """A number from 0 to 1."""

    def load(self, value):
        return value if type(value) in (int, float) and 0 <= value <= 1 else None


class MomentKey(Key):
    def dump(self, value: datetime) -> str:
        return value.isoformat()

    def load(self, value):
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            # year 9999 at -14:00 is past what a date holds
            return moment.astimezone(UTC) if moment and moment.tzinfo else None
        except (ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class TextKey(Key):
    valid: Callable[[str], bool] = lambda text: True

    def load(self, value):
        return value if isinstance(value, str) and self.valid(value) else None


class Pager:
    """The one keyset pager: rows in the order of its keys (the last one unique), a page at a
    time after the position a cursor names."""

    def __init__(self, *keys: Key):
        self.keys = keys

    def read(self, cursor: Sequence | None) -> tuple | None:
        """The position a `?cursor=` names, or a 422 when it is not one we gave out."""
        if cursor is None:
            return None
        position = tuple(key.load(value) for key, value in zip(self.keys, cursor, strict=False))
        if len(cursor) != len(self.keys) or None in position:
            raise InvalidInput.field("cursor", "Not a cursor this service gave out.", "query")
        return position

    def page(self, query: sa.Select, limit: int, cursor: Sequence | None, *,
             total: int | None = None) -> dict[str, Any]:
        """One page of `query`: `items` (rows), `next_cursor` (None on the last page) and
        `total`, which counts the whole list (unless the caller keeps it in a counter)."""
        position = self.read(cursor)
        if total is None:
            total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        rows = self._rows(query, limit + 1, position)
        next_cursor = self.cursor(rows[limit - 1]) if len(rows) > limit else None
        return {"items": rows[:limit], "next_cursor": next_cursor, "total": total}

    def _rows(self, query: sa.Select, count: int, position: tuple | None) -> Sequence:
        first, rest = self.keys[0], self.keys[1:]
        if not (isinstance(first, BoolKey) and rest):
            if position is not None:
                query = query.where(self._after(position))
            return db.session.scalars(query.order_by(*_order(self.keys)).limit(count)).all()
        # A flag first (pinned, then the rest): one part per value, each read in the order of
        # the other keys and cut at the page's size, so that an index serves each part and a
        # page costs its own rows, not a sort of the whole list.
        later = Pager(*rest)
        values = (True, False) if first.descending else (False, True)
        if position is not None:
            values = values[values.index(position[0]):]  # the parts before it are done
        parts = []
        for value in values:
            # `=`, not IS: PostgreSQL reads an index range for it.
            part = query.where(first.column == value)
            if position is not None and value is position[0]:
                part = part.where(later._after(position[1:]))
            parts.append(part.order_by(*_order(rest)).limit(count).subquery().select())
        rows = sa.orm.aliased(query.column_descriptions[0]["entity"],
                              sa.union_all(*parts).subquery())
        keys = [replace(key, column=getattr(rows, key.column.key))
                for key in self.keys]
        return db.session.scalars(sa.select(rows).order_by(*_order(keys)).limit(count)).all()

    def cursor(self, row: Any) -> str:
        return Cursor.encode([key.dump(getattr(row, key.column.key)) for key in self.keys])

    def _after(self, position: tuple) -> sa.ColumnElement[bool]:
        """Rows past `position`: for some key, past its value, every key before it equal."""
        later, equal = [], []
        for key, value in zip(self.keys, position, strict=True):
            past = key.past(value)
            if past is not None:
                later.append(sa.and_(*equal, past))
            equal.append(key.equal(value))
        return sa.or_(*later)


def _order(keys: Sequence[Key]) -> list:
    return [key.column.desc() if key.descending else key.column.asc() for key in keys]


def newest_first(id_column: Any) -> Pager:
    """The usual list: newest (highest id) first."""
    return Pager(IdKey(id_column, descending=True))
