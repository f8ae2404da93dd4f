"""gunicorn's worker for the service: gthread, except that a connection is given a thread only
once its request head (the request line and headers) has arrived whole.

gunicorn's threaded worker hands a connection to a thread as soon as its first byte arrives;
the thread then blocks until the client has sent every header. Slow clients sending a header
a minute (slowloris) hold all the threads and the service stops for everyone. Here the worker's
main loop reads the head without blocking and parks the connection in its poller meanwhile
(a socket, not a thread); a head still incomplete after REQUEST_HEAD_TIMEOUT seconds is closed.
The thread then reads the body against a deadline (ENGAGEMENT_REQUEST_BODY_TIMEOUT): a client
that stalls mid-upload is answered 400 `malformed_request` at the deadline, and the thread is
free again (gunicorn's own reads would wait for ever).
nginx in front buffers whole requests anyway (see README); this keeps gunicorn alone safe too.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
import socket
import time
from functools import partial
from http import HTTPStatus
from pathlib import Path
from selectors import EVENT_READ

from gunicorn import http
from gunicorn.glogging import Logger
from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import ThreadWorker

from engagement.config import DEFAULTS, ConfigError
from engagement.errors import envelope

REQUEST_HEAD_TIMEOUT = 10.0  # seconds for a client to send its request line and headers
# A head this long without its blank line is handed to gunicorn's parser, whose
# limit_request_* settings refuse it (the parser reads the rest itself).
LONGEST_HEAD = 64 * 1024
END_OF_HEAD = b"\r\n\r\n"
# A connection closed after its answer is read (and dropped) for this long, as gunicorn's
# graceful close does, so that unread request bytes do not make the kernel reset the answer.
CLOSE_LINGER = 2.0
LINGER_MAX_BYTES = 64 * 1024


def check_settings(addresses: list) -> None:
    """Read and check the settings in gunicorn's master, before it listens and before any
    worker reads them. gunicorn prints a RuntimeError (ConfigError is one) raised here as one
    line, `Error: ENGAGEMENT_...`, and exits 1; raised in a worker it would be a traceback.

    Production also refuses a unix socket without ENGAGEMENT_TRUSTED_PROXIES: every request then
    comes from the same peer, so every reader would be one client (one reader exhausts the
    comment limit, IP bans never match)."""
    from flask import Flask

    from engagement.config import load_config

    settings = Flask("engagement", instance_relative_config=True)
    logging.disable(logging.WARNING)  # each worker logs the warnings; not the master again
    try:
        load_config(settings, None)
    finally:
        logging.disable(logging.NOTSET)
    config = settings.config
    # gunicorn gives a unix socket's address as its path, a TCP one as (host, port).
    sockets = [address for address in addresses if isinstance(address, str)]
    if sockets and config["ENV"] == "production" and not config["TRUSTED_PROXIES"]:
        raise ConfigError(
            f"ENGAGEMENT_TRUSTED_PROXIES is empty and gunicorn listens on unix:{sockets[0]}: "
            "every reader would be one client; list the proxy in it (any address will do)")


class HeadFirstThreadWorker(ThreadWorker):
    def load_wsgi(self) -> None:
        super().load_wsgi()
        # Any WSGI app may be served so (bench/ serves a hello-world); the default holds there.
        config = getattr(self.wsgi, "config", {})
        self.body_timeout = config.get("REQUEST_BODY_TIMEOUT", DEFAULTS["REQUEST_BODY_TIMEOUT"])

    def handle(self, conn):
        """Serve a request in a thread, its reads bounded by the body deadline."""
        if conn.parser is not None:  # TLS and HTTP/2 make theirs in the thread, unbounded
            unreader = conn.parser.unreader
            if not isinstance(unreader.sock, DeadlineSocket):
                unreader.sock = DeadlineSocket(conn.sock)
            unreader.sock.deadline = time.monotonic() + self.body_timeout
        return super().handle(conn)

    def finish_request(self, conn, fs) -> None:
        """A connection to close lingers in the poller. gunicorn lingers in its main loop,
        up to 2 s for each client that keeps its socket open, and meanwhile answers no one."""
        if fs.cancelled() or fs.exception() is not None or fs.result():
            super().finish_request(conn, fs)  # kept alive, deferred, or failed
        else:
            self._linger(conn)

    def _linger(self, conn) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)  # the client reads the end of the answer
        except OSError:
            self.nr_conns -= 1
            conn.close()
            return
        conn.sock.setblocking(False)
        conn.lingered = 0
        conn.timeout = time.monotonic() + CLOSE_LINGER  # murder_pending closes it then
        bisect.insort(self.pending_conns, conn, key=lambda pending: pending.timeout)
        self.poller.register(conn.sock, EVENT_READ, partial(self._drain_lingering, conn))

    def _drain_lingering(self, conn, sock) -> None:
        try:
            data = sock.recv(LINGER_MAX_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.lingered += len(data)
        if data and conn.lingered < LINGER_MAX_BYTES:
            return
        self.poller.unregister(sock)
        self.pending_conns.remove(conn)
        self.nr_conns -= 1
        conn.close()

    def handle_error(self, req, client, addr, exc) -> None:
        """gunicorn's own refusals (a request line too long, a malformed head) in the service's
        JSON envelope instead of gunicorn's HTML page; gunicorn still decides and logs them."""
        super().handle_error(req, EnvelopeSocket(client), addr, exc)

    def enqueue_req(self, conn) -> None:
        if self._head_arrived(conn):
            super().enqueue_req(conn)
        else:
            self._park(conn)

    def _head_arrived(self, conn) -> bool:
        """Read what the client sent without blocking; True once the head is whole (or the
        client closed, or the head is too long or ends a line with a bare LF: the parser then
        answers or closes)."""
        if self.cfg.is_ssl or conn.is_http2:
            return True  # TLS and HTTP/2 read in the thread, as gunicorn does
        head = getattr(conn, "head", None)
        if head is None:
            parser = conn.parser
            if parser is not None and parser.unreader.buf.getvalue():
                return True  # the last request read ahead into this one
            head = conn.head = bytearray()
            conn.head_deadline = time.monotonic() + REQUEST_HEAD_TIMEOUT
        try:
            chunk = conn.sock.recv(LONGEST_HEAD)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            chunk = b""  # the thread meets the same error and closes the connection
        head += chunk
        if chunk and END_OF_HEAD not in head and len(head) < LONGEST_HEAD \
                and not _bare_line_feed(head):
            return False
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(head))
        conn.head = None
        conn.data_ready = True  # gunicorn need not wait for a first byte in the thread
        return True

    def _park(self, conn) -> None:
        """Wait in the poller for more of the head, until its deadline."""
        if time.monotonic() >= conn.head_deadline:
            self.nr_conns -= 1
            conn.close()
            return
        conn.sock.setblocking(False)
        conn.timeout = conn.head_deadline  # murder_pending closes it then
        bisect.insort(self.pending_conns, conn, key=lambda pending: pending.timeout)
        self.poller.register(conn.sock, EVENT_READ,
                             partial(self.on_pending_socket_readable, conn))


def _bare_line_feed(head: bytearray) -> bool:
    """Whether a line of the head ends in LF alone. Such a head never ends in CRLF CRLF, and
    gunicorn's parser refuses it at once (400), as RFC 9112 allows; waiting for the rest would
    leave the client unanswered until the head's deadline."""
    return head.count(b"\n") != head.count(b"\r\n")


class RequestTooSlow(NoMoreData):
    """The client did not send its request whole before the deadline. As for a client gone
    mid-body: the service answers 400 `malformed_request`, gunicorn then closes the connection
    (a body read that failed leaves the next request's start unknown)."""


class DeadlineSocket:
    """The client's socket as gunicorn's request parser reads it: each read waits only until
    the request's deadline. Answers are written to the socket itself, without it."""

    def __init__(self, sock):
        self._sock = sock
        self.deadline = 0.0

    def recv(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTooSlow()
        # gunicorn's drain of an unread body sets a shorter timeout of its own: keep it.
        own_timeout = self._sock.gettimeout()
        if own_timeout is not None and own_timeout < remaining:
            return self._sock.recv(size)
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv(size)
        except TimeoutError:
            raise RequestTooSlow() from None
        finally:
            self._sock.settimeout(own_timeout)

    def __getattr__(self, name):
        return getattr(self._sock, name)


# The contract's reason for each status gunicorn answers by itself.
SERVER_REASONS = {414: "uri_too_long", 500: "internal"}
SERVER_MESSAGES = {
    414: "The request line is too long.",
    431: "The request headers are too large.",
    500: "The server could not answer.",
}


class EnvelopeSocket:
    """The client's socket while gunicorn writes an error page of its own: the page is replaced
    by the JSON envelope of the same status (docs/api.md: every error, the HTTP server's too)."""

    def __init__(self, sock):
        self._sock = sock

    def sendall(self, data: bytes) -> None:
        status = int(data.split(b" ", 2)[1])
        self._sock.sendall(envelope_answer(status))

    def __getattr__(self, name):
        return getattr(self._sock, name)


def envelope_answer(status: int) -> bytes:
    reason = SERVER_REASONS.get(status, "malformed_request")
    message = SERVER_MESSAGES.get(status, "The request could not be read.")
    body = json.dumps(envelope(status, message, reason)).encode()
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


# A link's `token=` value, and anything shaped like one of our tokens (32 or more URL-safe
# characters mixing upper- and lower-case letters, as secrets.token_urlsafe writes them),
# wherever it appears: a query, a path segment, a Referer, an Authorization header.
TOKEN_PARAMETER = re.compile(r"(?i)(\btoken=)[^&;\s\"]*")
TOKEN_SHAPED = re.compile(r"(?<![\w-])(?=[\w-]*[a-z])(?=[\w-]*[A-Z])[\w-]{32,}(?![\w-])",
                          re.ASCII)
REDACTED = "[redacted]"
# What each pattern needs before it can match: the access log redacts some forty values of every
# request, mostly short and clean, and TOKEN_SHAPED's lookaheads cost some 100 us on a URL of
# 500 characters (a listing's /counts) where this search costs a tenth of that.
TOKEN_SHAPED_RUN = re.compile(r"[\w-]{32}", re.ASCII)


def redact(text: str) -> str:
    """The text with links' tokens replaced by [redacted]."""
    if "token=" in text.lower():  # (?i) matches no other letters than lower() gives back
        text = TOKEN_PARAMETER.sub(r"\1" + REDACTED, text)
    if TOKEN_SHAPED_RUN.search(text) is None:
        return text
    return TOKEN_SHAPED.sub(REDACTED, text)


class RedactingLogger(Logger):
    """gunicorn's logger, keeping tokens out of its logs: newsletter and reply-email links
    carry them in their query, and logs are kept longer and read by more people than the
    database. Every value the access log format can name is redacted, so an operator's own
    `access_log_format` is covered too; so is the error log, which quotes a malformed
    request line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.error_log.addFilter(_redact_record)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value
                for name, value in atoms.items()}


def _redact_record(record: logging.LogRecord) -> bool:
    record.msg, record.args = redact(record.getMessage()), ()
    return True


def empty_metrics_directory(directory: str) -> None:
    """Remove the metrics files a previous run left in PROMETHEUS_MULTIPROC_DIR, as
    prometheus_client requires: their counts would be added to this run's, and a new worker
    given an old one's pid would write into its file. Only its own files (*.db) go."""
    for path in Path(directory).glob("*.db"):
        path.unlink(missing_ok=True)
