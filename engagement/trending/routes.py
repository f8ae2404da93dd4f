"""GET /api/v1/trending."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.articles.services import ArticlePolicy
from engagement.clock import now
from engagement.trending import services
from engagement.trending.schemas import TrendingArgs, TrendingOut

blp = Blueprint("trending", __name__, url_prefix="/api/v1", description="What's Hot.")


@blp.route("/trending")
class Trending(MethodView):
    @limits.reads
    @blp.arguments(TrendingArgs, location="query")
    @blp.response(200, TrendingOut)
    def get(self, args):
        """What's Hot: articles by the comments and shares they drew inside the window

        `engagement` scores 3 per approved comment and 1 per counted share; `comments` and
        `shares` score one kind alone. Articles with no activity of that kind are left out,
        and so are articles the site did not register: only those with a title (admin API,
        import) or an id matching `ENGAGEMENT_ARTICLE_ID_PATTERN` are listed.
        """
        policy = ArticlePolicy.from_config(current_app.config)
        items = services.trending(args["window"], args["by"], args["limit"], now=now(),
                                  id_pattern=policy.id_pattern)
        return {"window": args["window"], "by": args["by"], "items": items}
