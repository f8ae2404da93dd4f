"""The service's own pages: `/`, a front page for whoever opens the service's address (what
runs here and where its parts are), and `/demo`, an article page embedding the widget, for
trying it out in development (404 in production, where the sites' own pages embed it)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from engagement import limits
from engagement.link_pages import public_link

bp = Blueprint("pages", __name__, template_folder="templates")
limits.reads(bp)  # public reads like any other

# The pages load nothing but the service's own files: no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@bp.get("/")
def home():
    """What this service is, and links to its parts."""
    return render_template("home.html", demo=_demo_enabled())


@bp.get("/demo")
def demo():
    """An article page with every widget placeholder, on the service's own origin."""
    if not _demo_enabled():
        abort(404)
    # The article's address for the share buttons: on the public base URL, as every absolute
    # link (never on the request's Host, which the client chooses).
    article_url = public_link(current_app.config["PUBLIC_BASE_URL"], "/demo")
    return render_template("demo.html", article_url=article_url)


def _demo_enabled() -> bool:
    return current_app.config["ENV"] == "development"


@bp.after_request
def page_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.cache_control.no_store = True
    return response
