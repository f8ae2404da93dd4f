"""Public article endpoints: one article's state and counts, and counts for listing pages.
Both answer from the article rows alone (counters kept at write time) and are cached by the
articles' versions (answers.py)."""

import hashlib

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.answers import versioned_answer
from engagement.articles import services
from engagement.articles.schemas import ArticleOut, CountsArgs, CountsOut
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.shares.services import share_counts

blp = Blueprint(
    "articles", __name__, url_prefix="/api/v1", description="Articles and their counts."
)


@blp.route("/articles/<slug:article_id>")
class ArticleById(MethodView):
    @limits.reads
    @blp.response(200, ArticleOut)
    @blp.alt_response(304, description="The `ETag` sent in `If-None-Match` is still current")
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown article, auto-create off")
    def get(self, article_id):
        """One article: whether comments are open, and its counts

        An article never seen before answers with defaults while
        `ENGAGEMENT_ARTICLES_AUTO_CREATE` is true (404 when false), and is not recorded by
        being read: its first comment or share records it.
        """
        policy, moment = services.ArticlePolicy.from_config(current_app.config), now()
        article = services.readable_article(article_id, policy, moment)
        comments_open = services.comments_are_open(article, policy, moment)
        # A close date passing changes the answer without a write: the state is in the ETag.
        validator = f"{article.version}.{'open' if comments_open else 'closed'}"
        return versioned_answer(ArticleOut(), validator, lambda: {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "comments_open": comments_open,
            "comments_close_at": article.comments_close_at,
            "comment_count": article.comment_count,
            "share_counts": share_counts(article.id, current_app.config["SHARE_NETWORKS"]),
        }, variant=article.id)


@blp.route("/counts")
class Counts(MethodView):
    @limits.reads
    @blp.arguments(CountsArgs, location="query")
    @blp.response(200, CountsOut)
    @blp.alt_response(304, description="The `ETag` sent in `If-None-Match` is still current")
    def get(self, args):
        """Counts for a listing page: comments, shares and open state of up to 100 articles

        One query whatever the number of ids; unknown ids get zeros and are not recorded.
        """
        policy = services.ArticlePolicy.from_config(current_app.config)
        asked, moment = args["ids"], now()
        known = services.articles_by_id(set(asked.values()))
        articles = {
            spelling: known.get(article_id) or services.unseen_article(article_id, moment)
            for spelling, article_id in asked.items()
        }
        state = {spelling: (article.version, services.comments_are_open(article, policy, moment))
                 for spelling, article in articles.items()}
        validator = hashlib.sha256(repr(sorted(state.items())).encode()).hexdigest()[:24]
        return versioned_answer(CountsOut(), validator, lambda: {"counts": {
            spelling: {
                "comments": article.comment_count,
                "shares": article.share_count,
                "comments_open": state[spelling][1],
            }
            for spelling, article in articles.items()
        }}, variant=",".join(asked))
