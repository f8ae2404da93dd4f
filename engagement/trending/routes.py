"""GET /api/v1/trending."""

from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
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
        `shares` score one kind alone. Articles with no activity of that kind are left out.
        """
        items = services.trending(args["window"], args["by"], args["limit"], now=now())
        return {"window": args["window"], "by": args["by"], "items": items}
