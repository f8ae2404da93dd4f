"""Public article endpoints: one article's state and counts, and counts for listing pages.
Both answer from the article rows alone (counters kept at write time) and are cached by the
articles' versions (answers.py)."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.answers import versioned
from engagement.articles import services
from engagement.articles.schemas import (
    UNKNOWN_ARTICLE,
    ArticleOut,
    CountsArgs,
    CountsOut,
)
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.shares.services import share_counts

blp = Blueprint(
    "articles", __name__, url_prefix="/api/v1", description="Articles and their counts."
)


def _policy() -> services.ArticlePolicy:
    return services.ArticlePolicy.from_config(current_app.config)


def article_validator(_query: dict, article_id: str) -> str:
    # A close date passing changes the answer without a write: the open state is in it.
    state = services.answer_state(article_id, _policy(), now())
    return f"{state.version}.{state.share_version}.{'open' if state.comments_open else 'closed'}"


def counts_validator(query: dict) -> str:
    # The URL names the articles (CountsArgs read them: {id as asked: article id}).
    return services.answer_states_digest(query["ids"].values(), _policy(), now())


@blp.route("/articles/<slug:article_id>")
class ArticleById(MethodView):
    @limits.reads
    @versioned(ArticleOut, article_validator)
    @blp.response(200, ArticleOut)
    @blp.alt_response(404, schema=ErrorSchema, description=UNKNOWN_ARTICLE)
    def get(self, article_id):
        """One article: whether comments are open, and its counts

        An article never seen before answers with defaults while
        `ENGAGEMENT_ARTICLES_AUTO_CREATE` is true (404 when false), and is not recorded by
        being read: its first comment or share records it.
        """
        policy, moment = _policy(), now()
        article = services.readable_article(article_id, policy, moment)
        return {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "comments_open": services.comments_are_open(article, policy, moment),
            "comments_close_at": article.comments_close_at,
            "comment_count": article.comment_count,
            "share_counts": share_counts(article.id, current_app.config["SHARE_NETWORKS"]),
        }


@blp.route("/counts")
class Counts(MethodView):
    @limits.reads
    @versioned(CountsOut, counts_validator, query=CountsArgs)
    @blp.arguments(CountsArgs, location="query")
    @blp.response(200, CountsOut)
    def get(self, args):
        """Counts for a listing page: comments, shares and open state of up to 100 articles

        One query whatever the number of ids; unknown ids get zeros and are not recorded.
        """
        policy, asked, moment = _policy(), args["ids"], now()
        known = services.articles_by_id(set(asked.values()))
        counts = {}
        for spelling, article_id in asked.items():
            article = known.get(article_id) or services.unseen_article(article_id, policy, moment)
            counts[spelling] = {
                "comments": article.comment_count,
                "shares": article.share_count,
                "comments_open": services.comments_are_open(article, policy, moment),
            }
        return {"counts": counts}
