"""Share POSTs answered before Flask. A share is the one write every reader of an article may
make, and the widget sends it on every share click: its own work is two statements and a
commit, and Flask's request machinery around it (a dozen hooks, argument parsing, the
response's dumping) cost as much again. So the service's WSGI app first takes each ordinary
share (a JSON body the share's schema loads, with or without an Idempotency-Key) and records
it with the same functions Flask's view calls (shares.services.record_share, the
idempotency services, the shares' rate limit counted in flask-limiter's own entries, the
client address, the metrics, flask-cors's headers) on a connection of its own, committed
before it answers (with the share's statement, in one round trip on PostgreSQL: the article's
hottest rows are locked for the database's work alone).

On PostgreSQL the shares without a key that a process's threads take at the same moment are
committed together (group_commit.py, shares.services.record_shares_together): one
transaction, two round trips and one commit (one WAL flush) for them all, where each share
took two round trips and a commit of its own, and the article's rows were locked and flushed
once per share. Each is still answered only once its commit has returned, as it would be
alone. A share whose article is not recorded yet is then recorded alone, as before.

Anything else goes on to Flask, with the body as it came: a body or key it cannot take, a
limit that is full or a store that is down, an unknown article (404), a key sent before (the
replay is Flask's), any error (a batch that fails other than by the database's being
unavailable hands each of its shares to Flask, which records it alone). What was counted or
written for it here is undone first, so that Flask counts and writes it once."""

from __future__ import annotations

import functools
import io
import json
import logging
import time
from datetime import datetime

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask, jsonify
from flask import request as flask_request
from flask_cors.core import get_cors_headers
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from engagement import limits, metrics
from engagement.clients import IPAddress, fingerprint, keyed_hash, limit_key
from engagement.clock import now
from engagement.errors import DomainError
from engagement.extensions import db
from engagement.fast_reads import PUBLIC_API_PREFIX, BeforeFlask
from engagement.group_commit import GroupCommit
from engagement.idempotency import services as idempotency
from engagement.idempotency.views import KEY_FORMAT
from engagement.mail import delivery
from engagement.shares.schemas import ShareIn, ShareRecordedOut
from engagement.shares.services import (
    SharePolicy,
    ShareRecorded,
    ShareToRecord,
    record_share,
    record_shares_together,
    shares_together,
)

log = logging.getLogger(__name__)

ENDPOINT = "shares.Shares"
# A share's body is `{"network": "..."}`: a longer one is no ordinary share.
ORDINARY_BODY_BYTES = 1024
# The most shares of a process's threads committed in one transaction (group_commit.py).
SHARES_COMMITTED_TOGETHER = 32
_SHARE_IN, _SHARE_OUT = ShareIn(), ShareRecordedOut()


# The database's errors that Flask's handlers answer (503 while it is unavailable): met here,
# they are handed to the view (`raise_what_failed_before_flask`), which raises them in turn.
DATABASE_ERRORS = (sa.exc.OperationalError, sa.exc.TimeoutError)
FAILED = "engagement.share_failed"


def raise_what_failed_before_flask(view):
    """The share view's first step: the database error the share met before Flask, raised for
    Flask's handlers, so that a database that does not answer is waited for once."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if (error := flask_request.environ.pop(FAILED, None)) is not None:
            raise error
        return view(*args, **kwargs)

    return wrapper


class HandedOver(Exception):
    """This share is Flask's to answer (its body, its key's earlier request, its article)."""


class FastShares(BeforeFlask):
    """The share POSTs that are ordinary, answered here; every other request, by Flask."""

    what = "a share"

    def __init__(self, app: Flask, flask_app, cors: dict) -> None:
        super().__init__(app, flask_app, cors)
        self.together = GroupCommit(self._record_together, shares_together,
                                    SHARES_COMMITTED_TOGETHER, DATABASE_ERRORS)

    def takes(self, environ: dict) -> bool:
        path = environ.get("PATH_INFO", "")
        return (environ.get("REQUEST_METHOD") == "POST" and path.startswith(PUBLIC_API_PREFIX)
                and path.endswith("/shares"))

    def failed(self, environ: dict, error: Exception) -> None:
        if isinstance(error, DATABASE_ERRORS):  # Flask answers it (503) without waiting again
            environ[FAILED] = error
        elif not isinstance(error, HandedOver):
            super().failed(environ, error)

    def answer(self, environ: dict) -> tuple[str, list, bytes] | None:
        started = time.perf_counter()
        request = Request(environ)
        try:
            rule, view_args = self.routes().match(request.path, "POST", return_rule=True)
        except HTTPException:
            return None  # Flask answers the 404, 405 or redirect
        if rule.endpoint != ENDPOINT:
            return None
        body = _ordinary_body(request, environ, self.app.config["MAX_CONTENT_LENGTH"])
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if body is None or (key is not None and not KEY_FORMAT.fullmatch(key)):
            return None
        with self.app.app_context():
            try:
                network = _SHARE_IN.load(json.loads(body.decode("utf-8")))["network"]
            except (ValueError, TypeError, ma.ValidationError):
                return None  # Flask refuses it, in the contract's words
            config = self.app.config
            address = self.client(request)
            cors = get_cors_headers(self.cors, request.headers, "POST").items(multi=True)
            client_key = limit_key(address)
            limit_headers = limits.count_before_flask(limits.SHARES_SCOPE, "SHARES",
                                                      lambda: client_key)
            if limit_headers is None:
                return None  # Flask's limiter refuses it, or falls back
            try:
                response = self._record(request, view_args["article_id"], network, address,
                                        key, body)
            except BaseException:
                limits.uncount(limits.SHARES_SCOPE, "SHARES", client_key)
                raise
            headers = [("Content-Type", response.content_type),
                       ("Content-Length", str(response.content_length)), *limit_headers,
                       ("X-Content-Type-Options", "nosniff")]
            headers += [(name, str(value)) for name, value in cors]
            if config["MAIL_BACKGROUND"]:
                delivery.look_in()  # as Flask's hook does for every request it serves
            metrics.observe("POST", ENDPOINT, 200, started)
        return "200 OK", headers, response.get_data()

    def _record(self, request: Request, article_id: str, network: str,
                address: IPAddress | None, key: str | None, body: bytes):
        """Record the share as the view does, and the key's write with it (`@idempotent`),
        committed; then the answer kept for the key's retries. HandedOver, with nothing
        written, where Flask's view must answer. The key's row is written first: a key that
        holds one within the day (an earlier request, which Flask replays or refuses) costs no
        other statement, and the share's statement, which locks the article's hottest rows,
        comes last, sent with the commit."""
        clock = now()
        client_hash = fingerprint(address, request.headers.get("User-Agent", ""))
        recorded = None
        if key is None and db.engine.dialect.name == "postgresql":
            # Committed with the shares of this process's other threads; None for one that
            # must be recorded alone (its article is not yet).
            recorded = self.together.submit(
                ShareToRecord(article_id, network, address, client_hash, clock))
        client = keyed_hash("idempotency", str(address)) if key is not None else None
        if recorded is None:
            recorded = self._record_alone(request, article_id, network, address, client_hash,
                                          (client, key), body, clock)
        response = jsonify(_SHARE_OUT.dump(recorded))  # as flask-smorest's @blp.response
        if key is not None:
            try:
                idempotency.record_answer(client, key, 200, response.get_data(as_text=True),
                                          response.content_type)
            except Exception:  # the share is committed: its answer stands (a retry gets 409)
                log.exception("the answer of a share's Idempotency-Key was not kept")
        return response

    def _record_alone(self, request: Request, article_id: str, network: str,
                      address: IPAddress | None, client_hash: str,
                      idempotency_key: tuple[str | None, str | None], body: bytes,
                      clock: datetime) -> ShareRecorded:
        """The share and its key's write (its client and key, when it has one), in a
        transaction of their own."""
        client, key = idempotency_key
        with db.engine.connect() as connection:
            if key is not None:
                request_hash = idempotency.request_hash("POST", request.path, body)
                try:
                    idempotency.record_write(connection, client, key, request_hash, now=clock)
                except (sa.exc.IntegrityError, idempotency.KeyInUse) as earlier:
                    raise HandedOver() from earlier  # Flask replays its answer, or refuses
            try:
                return record_share(
                    connection, article_id, network, address=address, client_hash=client_hash,
                    now=clock, policy=SharePolicy.from_config(self.app.config), commit=True)
            except DomainError as refusal:  # NotFound: Flask's handlers answer it
                raise HandedOver() from refusal

    def _record_together(self, shares: list[ShareToRecord]) -> list[ShareRecorded | None]:
        """A batch of GroupCommit: run by one of its threads, in its app context."""
        with db.engine.connect() as connection:
            return record_shares_together(connection, shares,
                                          SharePolicy.from_config(self.app.config))


def _ordinary_body(request: Request, environ: dict, most: int | None) -> bytes | None:
    """The body of a share sent as JSON, whole, of a share's size (and within the service's
    own limit); None for any other. A body read here is put back for Flask, which reads it
    again if the share goes on to it."""
    length = request.content_length
    if (request.mimetype != "application/json" or not length
            or length > min(ORDINARY_BODY_BYTES, most or ORDINARY_BODY_BYTES)
            or "HTTP_TRANSFER_ENCODING" in environ):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body if len(body) == length else None


def register_fast_shares(app: Flask, cors: dict) -> None:
    """Once every view is registered, before the fast reads (which then come first): the
    app's WSGI entry answers ordinary shares before Flask."""
    app.wsgi_app = FastShares(app, app.wsgi_app, cors)
