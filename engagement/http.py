"""The HTTP conventions of docs/api.md that every endpoint shares: path converters for article ids
and row ids, JSON-only writes with sane bodies, and cache headers (ETag, Cache-Control, 304)."""

from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from flask.sessions import SessionInterface
from werkzeug.exceptions import (
    ClientDisconnected,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.routing import BaseConverter, Map, ValidationError

from engagement.errors import MalformedRequest
from engagement.extensions import api

# An article id: 1 to 200 characters of unreserved URL characters and percent-encoded bytes
# (WordPress keeps a non-Latin slug as `%d8%a7...`), starting with a letter, a digit or an
# encoded byte. Its hex digits are kept lower case, as WordPress writes them.
SLUG_PATTERN = r"(?:[A-Za-z0-9]|%[0-9a-f]{2})(?:[A-Za-z0-9._~-]|%[0-9a-f]{2})*"
MAX_ARTICLE_ID_LENGTH = 200
_ARTICLE_ID = re.compile(SLUG_PATTERN)
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ENCODED_BYTE = re.compile(r"%[0-9A-Fa-f]{2}")
MAX_DB_INT = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"
ADMIN_PREFIX = "/api/v1/admin/"
# No request of the contract nests deeper than a few levels. The cap also keeps a body that
# only just parses here from overflowing the stack when the view's parser reads it again.
MAX_JSON_DEPTH = 32


def article_id_from(text: str, *, encode_reserved: bool = False) -> str | None:
    """The article id that `text` names, or None when it names none.

    Percent-encoded bytes keep their place with lower-case hex; other characters outside ASCII
    are encoded as UTF-8, so `السلام`, `%D8%A7...` and `%d8%a7...` name the same article (a URL
    decoder turns the path `/articles/%d8%a7` into the first). Reserved ASCII characters (space,
    `/`, `;`...) make it no id, unless `encode_reserved`, as for ids made from a URL's path."""
    if len(text) <= MAX_ARTICLE_ID_LENGTH and _PLAIN_ID.fullmatch(text):
        return text  # the usual slug, already in its one spelling (a /counts asks for 100)
    parts, position = [], 0
    while position < len(text):
        char = text[position]
        if char in _UNRESERVED:
            parts.append(char)
        elif _ENCODED_BYTE.match(text, position):
            parts.append(text[position:position + 3].lower())
            position += 3
            continue
        elif char.isascii() and not encode_reserved:
            return None
        else:
            parts.extend(f"%{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        position += 1
    article_id = "".join(parts)
    if len(article_id) > MAX_ARTICLE_ID_LENGTH or not _ARTICLE_ID.fullmatch(article_id):
        return None
    return article_id


class SlugConverter(BaseConverter):
    """An article id, in any of the spellings `article_id_from` accepts; anything else does
    not match the route, so it is a 404."""

    regex = r"[^/]{1,600}"

    def to_python(self, value: str) -> str:
        article_id = article_id_from(value)
        if article_id is None:
            raise ValidationError()
        return article_id


class IdConverter(BaseConverter):
    """A positive database id; larger numbers than a row can have are a 404, not a DB error."""

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_DB_INT:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def guard_json_writes():
    """A write must be JSON (415 otherwise, so a cross-site form cannot post), must arrive
    whole (a body shorter than its Content-Length is 400 `malformed_request`, never written)
    and must parse: malformed, absurdly deep or huge-number JSON is a 400 here rather than a
    500 later."""
    if (
        request.method not in WRITE_METHODS
        or not request.path.startswith(API_PREFIX)
        or request.url_rule is None  # let routing answer 404/405 first
    ):
        return None
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    ).lower()
    if request.method == "DELETE" and not has_body:
        return None
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Writes must be sent as Content-Type: application/json.")
    try:
        body = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    except ClientDisconnected:  # the socket failed mid-body, or its deadline passed
        raise MalformedRequest() from None
    if request.content_length is not None and len(body) < request.content_length:
        # The client went away mid-body: gunicorn hands over what came, as if it were all.
        raise MalformedRequest()
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(body) >= limit:
        # A streamed (chunked) body is cut at the limit rather than refused: refuse it here.
        raise RequestEntityTooLarge()
    if not body:
        return None
    too_deep = MalformedRequest(f"The body's JSON nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        document = json.loads(body.decode("utf-8"))
    except RecursionError:  # deeper than the parser goes: far deeper than the limit
        raise too_deep from None
    except ValueError:
        raise MalformedRequest("The body is not valid JSON.") from None
    if _nesting_depth(document) > MAX_JSON_DEPTH:
        raise too_deep
    return None


def _nesting_depth(document) -> int:
    """How deep arrays and objects nest, without recursion (the input may be very deep)."""
    deepest, stack = 0, [(document, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in value)
    return deepest


def public_cache_control(config) -> str:
    """The Cache-Control of a public GET's answer: stored by anyone, for a short while."""
    return f"public, max-age={config['CACHE_MAX_AGE']}"


def add_cache_headers(response):
    """Public GETs: a content ETag, a short public max-age, and 304 for a matching
    If-None-Match. Admin answers, and answers their view marked no-store, are never stored."""
    if request.path.startswith(ADMIN_PREFIX):
        response.cache_control.no_store = True
    elif "Cache-Control" in response.headers:
        # The view chose: never store it (the health probes), or keep it for good (the
        # widget's versioned files).
        return response
    elif request.method in ("GET", "HEAD") and response.status_code in (200, 304):
        # The CORS grant depends on the Origin: a shared cache must keep one copy per origin.
        response.vary.add("Origin")
        response.headers["Cache-Control"] = public_cache_control(current_app.config)
        # Versioned answers (answers.py) bring their ETag and answered 304 themselves; the
        # others hash their body here.
        if response.status_code == 200 and "ETag" not in response.headers \
                and not response.is_streamed:
            response.add_etag()
            response.make_conditional(request)
    return response


class NoCookies(SessionInterface):
    """The service keeps no session and sets no cookie: skip Flask's signed-cookie session,
    whose serializer would be built for every request."""

    def open_session(self, app, request):
        return None  # Flask then uses its null session

    def save_session(self, app, session, response):
        return None


def never_sniffed(response):
    """Every answer is read as the type it says it is (a JSON error is never run as HTML)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class PathsAsSent(Map):
    """The service's URL map: a path is matched as sent. Werkzeug's default answers a doubled
    slash with a redirect whose Location it builds from the request's Host header (so
    `/newsletter//confirm?token=...` would send the token on to whatever host a forged header,
    or a cache poisoned with one, names); here `//` is a 404 like any unknown path."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{**kwargs, "merge_slashes": False})


def register_http_conventions(app: Flask) -> None:
    app.session_interface = NoCookies()
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["id"] = IdConverter
    api.register_converter(
        SlugConverter, lambda _: {
            "type": "string", "pattern": f"^{SLUG_PATTERN}$", "maxLength": MAX_ARTICLE_ID_LENGTH,
        }
    )
    api.register_converter(
        IdConverter, lambda _: {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT}
    )
    app.before_request(guard_json_writes)
    app.after_request(add_cache_headers)
    app.after_request(never_sniffed)

