"""What the public sees of an article, and the listing-page counts request."""

import marshmallow as ma

from engagement.fields import Timestamp
from engagement.http import article_id_from

MAX_COUNT_IDS = 100
# The 404 of an article no read or write may record.
UNKNOWN_ARTICLE = "Unknown article: auto-create off, or an id ENGAGEMENT_ARTICLE_ID_PATTERN refuses"


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
            "description": "1 to 100 article ids, comma-separated, each as in a path. The "
                           "answer is keyed by each id as it was asked for.",
        },
    )

    @ma.post_load
    def split_ids(self, data, **kwargs):
        return {"ids": asked_ids(data["ids"])}


def asked_ids(text: str) -> dict[str, str]:
    """{id as asked: article id}: a page may spell an id `%D8%A7` or `ا`, and finds its count
    under the spelling it used. ValidationError for none, too many, or a malformed one."""
    asked = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not 1 <= len(asked) <= MAX_COUNT_IDS:
        raise ma.ValidationError(f"Give 1 to {MAX_COUNT_IDS} article ids.", "ids")
    ids = {spelling: article_id_from(spelling) for spelling in asked}
    bad = [spelling for spelling, article_id in ids.items() if article_id is None]
    if bad:
        raise ma.ValidationError("Not article ids: " + ", ".join(bad[:5]), "ids")
    return ids


class ArticleCountsOut(ma.Schema):
    comments = ma.fields.Integer()
    shares = ma.fields.Integer()
    comments_open = ma.fields.Boolean()


class CountsOut(ma.Schema):
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ArticleCountsOut))
