"""`@idempotent`, the one line by which a write route accepts `Idempotency-Key`.

With the header, the route's write and the key are committed together (the key is added to
the route's own transaction just before its commit), and the answer is kept with the key right
after. A retry with the same key and the same request gets that answer again, with
`Idempotent-Replayed: true`, and writes nothing; the same key with another request is a 422;
a retry racing the first request loses at the database and gets the first answer too. Keys
are kept 24 hours per client address. Without the header nothing changes."""

from __future__ import annotations

import functools
import re
import time

import sqlalchemy as sa
from flask import Response, current_app, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engagement.clients import client_address, keyed_hash
from engagement.clock import now
from engagement.errors import DomainError, InvalidInput
from engagement.extensions import db
from engagement.idempotency import services

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as a UUID or a token is
_PENDING = "engagement.idempotency_pending"  # session.info: the key to record at the commit
_RECORDED = "engagement.idempotency_recorded"
# A retry that finds the first request's write committed but its answer not yet recorded
# waits this long for it (the first request is between its two commits).
ANSWER_WAIT_SECONDS = 2.0

DOC = {"parameters": [{
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "A key the client makes per submission (a UUID) and sends again when it "
                   "retries it: the retry gets the first answer and writes nothing (24 h).",
}]}


class IdempotencyConflict(DomainError):
    status, reason = 409, "idempotency_conflict"
    message = "A request with this Idempotency-Key is still being processed; try again."


def idempotent(view):
    """Make a write route answer a retried Idempotency-Key with its first answer."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not KEY_FORMAT.fullmatch(key):
            raise InvalidInput.field(HEADER, "1 to 255 visible ASCII characters.", "headers")
        client = keyed_hash("idempotency", str(client_address()))
        fingerprint = services.request_hash(request.method, request.path, request.get_data())
        clock = now()
        earlier = services.seen(db.session.connection(), client, key, fingerprint, now=clock)
        if earlier is not None:
            return _replay(client, key, fingerprint, earlier)
        db.session.info[_PENDING] = (client, key, fingerprint, clock)
        try:
            response = view(*args, **kwargs)
        except (IntegrityError, services.KeyInUse):
            db.session.rollback()
            earlier = services.seen(db.session.connection(), client, key, fingerprint, now=now())
            if earlier is None:
                raise  # not this key's: the route's own constraint
            return _replay(client, key, fingerprint, earlier)
        finally:
            db.session.info.pop(_PENDING, None)
        if db.session.info.pop(_RECORDED, False):
            services.record_answer(client, key, response.status_code,
                                   response.get_data(as_text=True), response.content_type)
        return response

    wrapper._apidoc = dict(getattr(view, "_apidoc", {}))  # flask-smorest's documentation
    manual = dict(wrapper._apidoc.get("manual_doc", {}))
    manual["parameters"] = [*manual.get("parameters", []), *DOC["parameters"]]
    wrapper._apidoc["manual_doc"] = manual
    return wrapper


def _replay(client: str, key: str, fingerprint: str, earlier: services.Seen) -> Response:
    if not earlier.same_request:
        raise InvalidInput.field(
            HEADER, "This key was used with another request; make a new key per request.",
            "headers")
    deadline = time.monotonic() + ANSWER_WAIT_SECONDS
    while earlier is not None and earlier.status is None and time.monotonic() < deadline:
        db.session.rollback()  # see the other request's commit
        time.sleep(0.05)
        earlier = services.seen(db.session.connection(), client, key, fingerprint, now=now())
    db.session.rollback()
    if earlier is None or earlier.status is None:
        raise IdempotencyConflict()
    answer = current_app.response_class(earlier.body, earlier.status,
                                        content_type=earlier.content_type)
    answer.headers[REPLAYED] = "true"
    return answer


def _record_key_with_the_write(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        client, key, fingerprint, clock = pending
        services.record_write(session.connection(), client, key, fingerprint, now=clock)
        session.info[_RECORDED] = True


def register_idempotency() -> None:
    """One listener for every app's sessions (as the mail outbox's)."""
    session_class = db.session.session_factory.class_
    if not sa.event.contains(session_class, "before_commit", _record_key_with_the_write):
        sa.event.listen(session_class, "before_commit", _record_key_with_the_write)
