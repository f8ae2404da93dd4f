"""Named domain errors and the one JSON envelope every error of the service is rendered in:
`{"code", "status", "message", "reason", "errors"?}` (docs/api.md, Conventions). Services raise the
domain errors; Flask, werkzeug and webargs raise HTTP exceptions; both end up here."""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask, current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("engagement.errors")

# The contract's reason for an HTTP status when nothing more specific was raised.
REASON_BY_STATUS = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: "token_expired",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


class DomainError(Exception):
    """A refusal the contract names: its status, its reason and a sentence for the reader."""

    status = 400
    reason = "validation"
    message = "The request was refused."
    headers: dict[str, str] = {}

    def __init__(self, message: str | None = None, errors: dict[str, Any] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors


class NotFound(DomainError):
    status, reason, message = 404, "not_found", "Not found."


class InvalidInput(DomainError):
    status, reason, message = 422, "validation", "The request has invalid fields."

    @classmethod
    def field(cls, field: str, message: str, location: str = "json") -> InvalidInput:
        return cls(errors={location: {field: [message]}})


class CommentsClosed(DomainError):
    status, reason, message = 403, "comments_closed", "Comments are closed."


class InvalidToken(DomainError):
    status, reason, message = 403, "invalid_token", "The token is not valid."


class UnknownToken(DomainError):
    """A token of a link (newsletter confirmation, unsubscription) that names nothing."""

    status, reason, message = 404, "invalid_token", "This link is not valid, or was used already."


class TokenExpired(DomainError):
    status, reason, message = 410, "token_expired", "This link has expired."


class EditWindowExpired(DomainError):
    status, reason, message = 403, "edit_window_expired", "The time to edit this comment is over."


class Unauthorized(DomainError):
    status, reason, message = 401, "unauthorized", "Authentication is required."
    headers = {"WWW-Authenticate": 'Bearer realm="engagement admin"'}


class Forbidden(DomainError):
    status, reason, message = 403, "forbidden", "Your role may not do this."


class Banned(DomainError):
    status, reason, message = 403, "banned", "You may not comment here."


class RateLimited(DomainError):
    status, reason, message = 429, "rate_limited", "Too many requests: try again later."

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class Unavailable(DomainError):
    status, reason, message = 503, "unavailable", "The service cannot answer right now."

    @property
    def headers(self) -> dict[str, str]:
        return retry_after()


def retry_after() -> dict[str, str]:
    """The Retry-After of every 503: ENGAGEMENT_RETRY_AFTER_SECONDS."""
    return {"Retry-After": str(current_app.config["RETRY_AFTER_SECONDS"])}


class ErrorSchema(ma.Schema):
    """The error envelope (documentation only: `envelope` builds the payload)."""

    code = ma.fields.Integer(metadata={"description": "The HTTP status"})
    status = ma.fields.String(metadata={"description": "The HTTP status phrase"})
    message = ma.fields.String(metadata={"description": "A sentence to show a reader"})
    reason = ma.fields.String(metadata={"description": "A stable machine-readable word"})
    errors = ma.fields.Dict(metadata={"description": "Validation messages by location and field"})


def envelope(code: int, message: str, reason: str | None = None, errors: dict | None = None):
    payload = {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": message,
        "reason": reason or REASON_BY_STATUS.get(code, "internal" if code >= 500 else "validation"),
    }
    if errors:
        payload["errors"] = errors
    return payload


class Api(flask_smorest.Api):
    """flask-smorest's Api, rendering HTTP errors in the contract's envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if error.code == 500:
            # Unhandled: Flask has logged the traceback; the client learns nothing of it.
            message = InternalServerError.description
        elif error.code == 422 and "message" not in data:
            message = InvalidInput.message  # webargs' refusals: the fields are in `errors`
        else:
            message = data.get("message") or error.description or HTTPStatus(error.code).phrase
        headers = dict(data.get("headers") or {})
        if error.code == 405 and error.get_headers():
            headers.update((k, v) for k, v in error.get_headers() if k == "Allow")
        return envelope(error.code, message, errors=errors), error.code, headers


class MalformedRequest(DomainError):
    status, reason, message = 400, "malformed_request", "The request could not be read."


def register_error_handlers(app: Flask) -> None:
    # A body the HTTP server cannot read (a malformed chunk, a client gone mid-body) is the
    # client's fault: 400, not a 500 with a stack trace in the log for every such request.
    from gunicorn.http.errors import NoMoreData, ParseException

    @app.errorhandler(ParseException)
    @app.errorhandler(NoMoreData)
    def _unreadable_body(error: Exception):
        log.info("unreadable request body: %s", type(error).__name__)
        return _domain_error(MalformedRequest())

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        payload = envelope(error.status, error.message, error.reason, error.errors)
        return payload, error.status, error.headers

    @app.errorhandler(OperationalError)
    def _database_error(error: OperationalError):
        if not _database_unavailable(error):
            log.exception("database error")
            return envelope(500, InternalServerError.description), 500
        # Down, unreachable or too slow: a passing condition, not a fault of the request.
        log.error("database unavailable: %s", (str(error.orig).splitlines() or [""])[0])
        return envelope(503, Unavailable.message), 503, retry_after()

    @app.errorhandler(PoolTimeout)
    def _no_free_connection(error: PoolTimeout):
        log.error("database unavailable: no free connection in the pool")
        return envelope(503, Unavailable.message), 503, retry_after()


def _database_unavailable(error: OperationalError) -> bool:
    """Whether the database could not be reached or is overloaded (as opposed to a query that
    is wrong, which stays a 500)."""
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.Error):
        return any(sign in str(error.orig) for sign in ("locked", "unable to open", "disk I/O"))
    sqlstate = getattr(error.orig, "sqlstate", None)
    # No SQLSTATE: the client could not connect at all. 08: connection exception;
    # 53: insufficient resources; 57: operator intervention (shutdown, cannot connect now).
    return sqlstate is None or sqlstate[:2] in ("08", "53", "57")
