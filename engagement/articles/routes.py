"""Public article endpoints: one article's state and counts, and counts for listing pages."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.articles import services
from engagement.articles.schemas import ArticleOut, CountsArgs, CountsOut
from engagement.clock import now
from engagement.comments.services import visible_comment_counts
from engagement.errors import ErrorSchema
from engagement.extensions import db
from engagement.shares.services import share_counts, share_totals

blp = Blueprint(
    "articles", __name__, url_prefix="/api/v1", description="Articles and their counts."
)


@blp.route("/articles/<slug:article_id>")
class ArticleById(MethodView):
    @limits.reads
    @blp.response(200, ArticleOut)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown article, auto-create off")
    def get(self, article_id):
        """One article: whether comments are open, and its counts

        An article never seen before is recorded and answers with defaults while
        `ENGAGEMENT_ARTICLES_AUTO_CREATE` is true (404 when false).
        """
        policy, moment = services.ArticlePolicy.from_config(current_app.config), now()
        article = services.find_article(article_id, policy, moment)
        answer = {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "comments_open": services.comments_are_open(article, policy, moment),
            "comments_close_at": article.comments_close_at,
            "comment_count": visible_comment_counts([article.id]).get(article.id, 0),
            "share_counts": share_counts(article.id, current_app.config["SHARE_NETWORKS"]),
        }
        db.session.commit()  # records a first sighting
        return answer


@blp.route("/counts")
class Counts(MethodView):
    @limits.reads
    @blp.arguments(CountsArgs, location="query")
    @blp.response(200, CountsOut)
    def get(self, args):
        """Counts for a listing page: comments, shares and open state of up to 100 articles

        Three queries whatever the number of ids; unknown ids get zeros and are not recorded.
        """
        policy = services.ArticlePolicy.from_config(current_app.config)
        asked, moment = args["ids"], now()
        ids = set(asked.values())
        known = services.articles_by_id(ids)
        comments = visible_comment_counts(ids)
        shares = share_totals(ids, current_app.config["SHARE_NETWORKS"])
        counts = {}
        for spelling, article_id in asked.items():
            article = known.get(article_id) or services.unseen_article(article_id, moment)
            counts[spelling] = {
                "comments": comments.get(article_id, 0),
                "shares": shares.get(article_id, 0),
                "comments_open": services.comments_are_open(article, policy, moment),
            }
        return {"counts": counts}
