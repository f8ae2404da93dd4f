"""What the public sees of an article, and the listing-page counts request."""

import re

import marshmallow as ma

from engagement.fields import Timestamp
from engagement.http import SLUG_PATTERN

_SLUG = re.compile(rf"^{SLUG_PATTERN}$")
MAX_COUNT_IDS = 100


class ArticleOut(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    comments_open = ma.fields.Boolean()
    comments_close_at = Timestamp(allow_none=True)
    comment_count = ma.fields.Integer(metadata={"description": "Approved, not deleted comments"})
    share_counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Every configured network, zeros included, and `total`"},
    )


class CountsArgs(ma.Schema):
    ids = ma.fields.String(
        required=True,
        metadata={
            "description": "1 to 100 article ids, comma-separated",
            "pattern": rf"^{SLUG_PATTERN}(,\s*{SLUG_PATTERN}){{0,99}}$",
        },
    )

    @ma.post_load
    def split_ids(self, data, **kwargs):
        ids = list(dict.fromkeys(part.strip() for part in data["ids"].split(",") if part.strip()))
        if not 1 <= len(ids) <= MAX_COUNT_IDS:
            raise ma.ValidationError(f"Give 1 to {MAX_COUNT_IDS} article ids.", "ids")
        bad = [article_id for article_id in ids if not _SLUG.match(article_id)]
        if bad:
            raise ma.ValidationError("Not article ids: " + ", ".join(bad[:5]), "ids")
        return {"ids": ids}


class ArticleCountsOut(ma.Schema):
    comments = ma.fields.Integer()
    shares = ma.fields.Integer()
    comments_open = ma.fields.Boolean()


class CountsOut(ma.Schema):
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ArticleCountsOut))
