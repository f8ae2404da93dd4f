"""The moderators' article tools: the list with each article's comment state, setting an
article up (PUT) and changing it (PATCH), which is how comments are closed or reopened by hand.
Every route needs a bearer token (admin.auth); every change is audited."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement.admin.auth import current_admin, protect
from engagement.articles import services
from engagement.articles.admin_schemas import (
    AdminArticleArgs,
    AdminArticleOut,
    AdminArticlePageOut,
    ArticleChangesIn,
    ArticleIn,
)
from engagement.clock import now
from engagement.errors import ErrorSchema

blp = Blueprint(
    "admin_articles", __name__, url_prefix="/api/v1/admin",
    description="Moderators' article tools (Authorization: Bearer <token>).",
)
protect(blp)


def _answers(articles) -> list[dict]:
    policy, moment = services.ArticlePolicy.from_config(current_app.config), now()
    return [services.admin_article(article, policy, moment) for article in articles]


@blp.route("/articles")
class AdminArticles(MethodView):
    @blp.arguments(AdminArticleArgs, location="query")
    @blp.response(200, AdminArticlePageOut)
    def get(self, args):
        """Articles, most recently first seen first, with their comment state and count

        `comments_open=true|false` keeps the articles whose comments are open (or closed)
        now, by the same rules readers see; `q` keeps those whose id or title contains it.
        """
        page = services.article_page(
            comments_open=args["comments_open"], q=args["q"], limit=args["limit"],
            cursor=args["cursor"],
            policy=services.ArticlePolicy.from_config(current_app.config), now=now(),
        )
        page["items"] = _answers(page["items"])
        return page


@blp.route("/articles/<slug:article_id>")
class AdminArticle(MethodView):
    @blp.arguments(ArticleIn)
    @blp.response(200, AdminArticleOut, description="Updated")
    @blp.alt_response(201, schema=AdminArticleOut, description="Created")
    def put(self, fields, article_id):
        """Set an article up, or replace what is set of it (a field left out is null)

        `comments_open` true or false opens or closes comments whatever the dates; null
        leaves them to `comments_close_at` and `ENGAGEMENT_COMMENTS_CLOSE_AFTER_DAYS`.
        """
        article, created = services.put_article(article_id, fields, actor=current_admin().name,
                                                now=now())
        (answer,) = _answers([article])
        return answer, 201 if created else 200

    @blp.arguments(ArticleChangesIn)
    @blp.response(200, AdminArticleOut)
    @blp.alt_response(404, schema=ErrorSchema, description="No such article")
    def patch(self, changes, article_id):
        """Change some of an article's fields, such as closing its comments"""
        article = services.change_article(article_id, changes, actor=current_admin().name,
                                          now=now())
        (answer,) = _answers([article])
        return answer
