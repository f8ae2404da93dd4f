"""Public reads answered before Flask. A news page's readers ask for the same few answers
(the thread, the article, the listing's counts) again and again, mostly with the ETag they hold;
once the answer is known (a 304, or a body in the answer cache), Flask's request machinery and
its dozen hooks cost several times the work of the answer itself. So the service's WSGI app
first looks at each GET of a versioned answer (answers.py): it decides it as the view would,
and answers a 304 or a cached body itself, with the headers Flask's hooks would write (the
same functions and settings: flask-cors's, the rate limit's, the metrics', the cache
conventions). Anything else, it hands to Flask untouched, with what it decided, so that the
validator is read once: a body to build, a refused query, an unknown article, an error, a
limit that is full. Discourse's anonymous cache answers before Rails in the same way."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable

from flask import Flask
from flask_cors.core import get_cors_headers, get_cors_options
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Request

from engagement import limits, metrics
from engagement.answers import DECIDED, Versioned, answer_cache
from engagement.clients import limit_key, resolve_client
from engagement.http import ADMIN_PREFIX, public_cache_control
from engagement.mail import delivery

log = logging.getLogger(__name__)

PUBLIC_API_PREFIX = "/api/v1/"
# Settings that give requests limits of flask-limiter's own beyond the views' (application-wide,
# default and meta limits): with any of them set, every request goes to Flask, which counts them.
LIMITS_BEYOND_THE_VIEWS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")
# Paths whose route each process remembers (a page's readers ask for the same few).
PATHS_REMEMBERED = 1024


class BeforeFlask:
    """A WSGI layer in front of Flask (`flask_app`, Flask's own wsgi_app) that answers some
    requests itself: those `takes` says it tries, where `answer` gives (status, headers,
    body). Every other request, and any it gives no answer for, goes on to Flask."""

    what = "a request"  # for the log

    def __init__(self, app: Flask, flask_app: Callable, cors: dict) -> None:
        self.app = app
        self.flask_app = flask_app
        self.enabled = not any(app.config.get(name) for name in LIMITS_BEYOND_THE_VIEWS)
        # What flask-cors computes for the public API's resource from the options it was given.
        self.cors = get_cors_options(app, cors)
        self._routes: MapAdapter | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self.enabled and self.takes(environ):
            try:
                answer = self.answer(environ)
            except Exception as error:
                answer = self.failed(environ, error)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.flask_app(environ, start_response)

    def takes(self, environ: dict) -> bool:
        raise NotImplementedError

    def answer(self, environ: dict) -> tuple[str, list, bytes] | None:
        raise NotImplementedError

    def failed(self, environ: dict, error: Exception) -> None:
        """A fault of this shortcut (called while it is handled): logged, and Flask answers as
        it would without the shortcut."""
        log.exception("%s could not be answered before Flask", self.what)

    def routes(self) -> MapAdapter:
        """The app's URL map, bound once (its routes are all registered by the first request):
        its rules match by path and method alone (no host matching, no subdomains), which
        bind_to_environ would work out again for every request."""
        if self._routes is None:
            self._routes = self.app.url_map.bind("", subdomain="")
        return self._routes

    def client(self, request: Request):
        """The client's address, as clients.client_address finds it for Flask."""
        # A WSGI server gives a header sent twice as one, its values joined by commas.
        forwarded_for = request.environ.get("HTTP_X_FORWARDED_FOR")
        return resolve_client(request.remote_addr,
                              [forwarded_for] if forwarded_for is not None else [],
                              self.app.config["TRUSTED_PROXIES"])


class FastReads(BeforeFlask):
    """The service's WSGI app: versioned public reads whose answer is known, answered here;
    every other request, by Flask."""

    what = "a read"

    def __init__(self, app: Flask, flask_app: Callable, cors: dict) -> None:
        super().__init__(app, flask_app, cors)
        self._route: Callable[[str], tuple[str, dict]] | None = None
        self._answers: dict[str, Versioned] | None = None

    def takes(self, environ: dict) -> bool:
        path = environ.get("PATH_INFO", "")
        return (environ.get("REQUEST_METHOD") == "GET" and path.startswith(PUBLIC_API_PREFIX)
                and not path.startswith(ADMIN_PREFIX))

    def failed(self, environ: dict, error: Exception) -> None:
        super().failed(environ, error)
        environ.pop(DECIDED, None)  # Flask decides again

    def answer(self, environ: dict) -> tuple[str, list, bytes] | None:
        started = time.perf_counter()
        request = Request(environ)
        try:
            endpoint, view_args = self.route(request.path)
        except HTTPException:
            return None  # Flask answers the 404, 405 or redirect
        versioned = self.answers().get(endpoint)
        if versioned is None:
            return None
        with self.app.app_context():
            try:
                decision = versioned.decide(environ.get("QUERY_STRING", ""), view_args,
                                            request.if_none_match, request.path)
            except Exception as error:  # Flask's error handlers answer it (404, 503...)
                environ[DECIDED] = error
                return None
            if decision is None:
                return None
            body = None if decision.not_modified else answer_cache().get(decision.cache_key)
            if not decision.not_modified and body is None:
                environ[DECIDED] = decision  # the view builds it
                return None
            config = self.app.config
            cors = get_cors_headers(self.cors, request.headers, "GET").items(multi=True)
            # Counted last: a read that goes on to Flask after this would be counted twice.
            limit_headers = limits.count_read(lambda: limit_key(self.client(request)))
            if limit_headers is None:
                environ[DECIDED] = decision  # Flask's limiter refuses it, or falls back
                return None
            status = 304 if body is None else 200
            headers = [("ETag", f'"{decision.etag}"'), *limit_headers,
                       ("X-Content-Type-Options", "nosniff"), ("Vary", "Origin"),
                       ("Cache-Control", public_cache_control(config))]
            if body is not None:
                headers[:0] = [("Content-Type", "application/json"),
                               ("Content-Length", str(len(body)))]
            headers += [(name, str(value)) for name, value in cors]
            if config["MAIL_BACKGROUND"]:
                delivery.look_in()  # as Flask's hook does for every request it serves
            metrics.observe("GET", endpoint, status, started)
        return ("304 NOT MODIFIED" if body is None else "200 OK"), headers, body or b""

    def route(self, path: str) -> tuple[str, dict]:
        """The endpoint and view arguments of a GET of `path`, or the HTTPException Flask's
        routing raises (404, 405, a redirect). The answers of the last PATHS_REMEMBERED
        paths are kept: readers of one page ask for the same few."""
        if self._route is None:
            routes = self.routes()

            @functools.lru_cache(maxsize=PATHS_REMEMBERED)
            def route(path: str) -> tuple[str, dict]:
                rule, view_args = routes.match(path, "GET", return_rule=True)
                return rule.endpoint, view_args

            self._route = route
        endpoint, view_args = self._route(path)
        return endpoint, dict(view_args)

    def answers(self) -> dict[str, Versioned]:
        """{endpoint: its Versioned}, for the views that `answers.versioned` decorates (found
        on the MethodView's `get`, through the decorators that wrap it)."""
        if self._answers is None:
            self._answers = {}
            for endpoint, view in self.app.view_functions.items():
                get = getattr(getattr(view, "view_class", None), "get", None)
                versioned = getattr(get, "versioned", None)
                if isinstance(versioned, Versioned):
                    self._answers[endpoint] = versioned
        return self._answers


def register_fast_reads(app: Flask, cors: dict) -> None:
    """Last, once every view is registered: the app's WSGI entry answers known reads first,
    with the CORS options the public API's resource has."""
    app.wsgi_app = FastReads(app, app.wsgi_app, cors)
