"""Moderators' In/Out schemas for articles: what the site tells us of an article, whether its
comments are open, and the list with both the effective state and the moderator's choice."""

import marshmallow as ma

from engagement.fields import NotBlank, StrictBoolean, Text, Timestamp, WebUrl
from engagement.pagination import PageArgs, page_schema


class AdminArticleArgs(PageArgs):
    comments_open = ma.fields.Boolean(
        load_default=None, truthy={"true"}, falsy={"false"},
        metadata={"description": "true or false: only articles whose comments are open (or "
                                 "closed) now, by the rules readers see"},
    )
    q = Text(load_default=None, single_line=True, validate=ma.validate.Length(1, 200),
             metadata={"description": "Text in the article's id or title (any case)"})


class ArticleFields(ma.Schema):
    title = NotBlank(allow_none=True, single_line=True, max_length=500)
    url = WebUrl(allow_none=True)
    published_at = Timestamp(
        allow_none=True, metadata={"description": "Its age, for COMMENTS_CLOSE_AFTER_DAYS"}
    )
    comments_open = StrictBoolean(
        allow_none=True,
        metadata={"description": "A moderator's choice, which outranks the close date and the "
                                 "article's age; null leaves it to those automatic rules"},
    )
    comments_close_at = Timestamp(
        allow_none=True, metadata={"description": "Comments close at this moment"}
    )


class ArticleIn(ArticleFields):
    """The whole article: a field left out is null."""

    @ma.post_load
    def _absent_is_null(self, data, **kwargs):
        return {name: data.get(name) for name in self.fields}


class ArticleChangesIn(ArticleFields):
    """Some of the article's fields: those left out stay as they are."""

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.")


class AdminArticleOut(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    published_at = Timestamp(allow_none=True)
    comments_open = ma.fields.Boolean(
        metadata={"description": "Whether readers may comment now (all rules applied)"}
    )
    comments_open_by_moderator = ma.fields.Boolean(
        allow_none=True, metadata={"description": "The moderator's choice; null = automatic"}
    )
    comments_close_at = Timestamp(allow_none=True)
    first_seen_at = Timestamp(metadata={"description": "When the service first heard of it"})
    comment_count = ma.fields.Integer(metadata={"description": "Approved, not deleted comments"})


AdminArticlePageOut = page_schema(AdminArticleOut, "AdminArticlePage")
