"""The embeddable widget's files: the script a site's pages load with one script tag, and its
stylesheet (API.md, "The embeddable widget"). Both are package files served as they are: no
build step. A script or stylesheet tag loads them from any origin without CORS; the cache
headers are the service's own (ETag, a short public max-age, 304)."""

from importlib import resources

from flask import Blueprint, Response

bp = Blueprint("widget", __name__, url_prefix="/widget")


def _asset(name: str, mimetype: str) -> Response:
    body = resources.files("engagement.widget").joinpath("static", name).read_bytes()
    response = Response(body, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Pages of other origins load these even when they isolate themselves (COEP).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/engagement.js")
def script():
    """The widget's script, for `<script src=".../widget/engagement.js" async>`."""
    return _asset("engagement.js", "application/javascript")


@bp.get("/engagement.css")
def stylesheet():
    """The widget's stylesheet, which the script links into the page itself."""
    return _asset("engagement.css", "text/css")
