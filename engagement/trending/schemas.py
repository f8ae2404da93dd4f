"""What's Hot: the query and the ranked list."""

import marshmallow as ma

from engagement.fields import QueryInteger
from engagement.trending.services import WINDOWS


class TrendingArgs(ma.Schema):
    window = ma.fields.String(load_default="24h", validate=ma.validate.OneOf(list(WINDOWS)))
    by = ma.fields.String(
        load_default="engagement", validate=ma.validate.OneOf(["engagement", "comments", "shares"])
    )
    limit = QueryInteger(load_default=10, validate=ma.validate.Range(1, 50))


class TrendingItem(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    comments = ma.fields.Integer()
    shares = ma.fields.Integer()
    score = ma.fields.Float()


class TrendingOut(ma.Schema):
    window = ma.fields.String()
    by = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(TrendingItem))
