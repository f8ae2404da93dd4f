"""The moderation console's files (docs/api.md, "The moderation console"): one HTML page, its
stylesheet and its script, served as they are from the package (no build step, no CDN). The
page holds no data: everything it shows comes from the admin API, called by the script with the
token the moderator signed in with. Also the API's documentation page, which points to the
OpenAPI document and to the console instead of loading Swagger UI from a CDN."""

from importlib import resources

from flask import Blueprint, Response, redirect

from engagement import limits

bp = Blueprint("console", __name__)

# Only our own files run or style the page; it calls only its own origin; no site frames it.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _file(name: str, mimetype: str) -> Response:
    body = resources.files("engagement.console").joinpath("static", name).read_bytes()
    return Response(body, mimetype=mimetype)  # nosniff, as every answer (http.never_sniffed)


def _page(name: str) -> Response:
    response = _file(name, "text/html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    # The page is the same for everyone, but a moderator's browser need not keep it either.
    response.cache_control.no_store = True
    return response


@bp.get("/admin")
def console_without_slash():
    return redirect("/admin/", code=308)


@bp.get("/admin/")
def console():
    """The console's page; the script signs in and fills it."""
    return _page("console.html")


@bp.get("/admin/console.js")
def script():
    return _file("console.js", "application/javascript")


@bp.get("/admin/console.css")
def stylesheet():
    return _file("console.css", "text/css")


@bp.get("/api/v1/docs")
@limits.reads
def api_docs():
    """Where the API is described: the OpenAPI document, and the console for moderators."""
    return _page("docs.html")
