"""Delivering the outbox: one pass over the due messages (for `flask outbox deliver` and for
the background deliverer), the deliverer thread of a serving process, the hook that wakes it
after a commit that queued mail, and the mail server's state for /readyz."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engagement.clock import now
from engagement.config import ConfigError
from engagement.extensions import db
from engagement.mail import outbox
from engagement.mail.models import OutboxKind
from engagement.mail.transport import (
    DeliveryError,
    MailServer,
    connect,
    parse_mail_url,
    post_webhook,
    reachable,
)

log = logging.getLogger("engagement.mail")

EXTENSION = "engagement.mail"
# The writers of batch messages, by their keys' prefix (see register_batch_writer).
BATCH_WRITERS = "engagement.mail.batch_writers"
# The background deliverer sleeps at most this long between looks at queued messages (sooner
# when woken by a commit), and an idle process looks in at most this often while it serves.
LONGEST_NAP = 30.0
IDLE_LOOK_SECONDS = 60.0
PROBE_TIMEOUT = 1.0  # seconds to connect to the mail server, for /readyz
PROBE_CACHE_SECONDS = 5.0


@dataclass
class Delivered:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __iadd__(self, other: Delivered) -> Delivered:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        return self


# The deliverers' lanes, each a loop of its own (a thread of the serving process, of the
# worker): mail never waits behind webhooks, whose receivers may take WEBHOOK_TIMEOUT a POST.
LANES = (OutboxKind.MAIL, OutboxKind.WEBHOOK)


def deliver_outbox(server: MailServer, stopping: Callable[[], bool] = lambda: False,
                   kinds: tuple[OutboxKind, ...] = LANES) -> Delivered:
    """Deliver every message of these kinds due now, mail first, batch by batch, committing
    each claim before sending and each result after it (no transaction stays open while SMTP
    talks). When `stopping` turns true, the message being sent is finished and the rest of the
    batch released."""
    done = Delivered()
    for kind in kinds:
        done += _deliver_kind(kind, server, stopping)
    return done


def _deliver_kind(kind: OutboxKind, server: MailServer,
                  stopping: Callable[[], bool]) -> Delivered:
    done = Delivered()
    while not stopping():
        if not outbox.anything_due(now(), kind):
            db.session.rollback()
            return done
        batch = outbox.claim_due(now=now(), kind=kind)
        db.session.commit()
        if not batch:
            return done  # another deliverer took them
        sent = (_send(batch, server, stopping) if kind is OutboxKind.MAIL
                else _post_webhooks(batch, stopping))
        done += sent
        if len(batch) < outbox.BATCH or sent.retrying:
            return done  # all due taken, or the server is in trouble: the rest waits its turn
    return done


def _send(batch: list[outbox.Claimed], server: MailServer,
          stopping: Callable[[], bool]) -> Delivered:
    batch = [outbox.from_current_sender(written) for message in batch
             if (written := _written(message)) is not None]
    if not batch:
        return Delivered()
    try:
        with connect(server) as connection:
            return _deliver_each(batch, stopping, lambda message: connection.send(
                message.sender, message.recipient, message.message))
    except DeliveryError as error:  # no connection: nothing of the batch went out
        done = Delivered()
        for position, message in enumerate(batch):  # the reason said once, with the first
            _failed(message, error, done, said=position == 0)
        return done


def _written(message: outbox.Claimed) -> outbox.Claimed | None:
    """A batch's message as it stands now, written by its feature and committed before it is
    sent (retries write it again); None, and gone from the outbox, when nothing of it is news
    any more. Any other message as it was queued."""
    if message.batch_key is None:
        return message
    writer = current_app.extensions[BATCH_WRITERS][outbox.batch_prefix(message.batch_key)]
    written = writer(message.id, message.batch_key, message.recipient, now())
    if written is None:
        outbox.record_sent(message)
        db.session.commit()
        log.info("%s %s not sent: nothing in it is news any more", message.kind, message.id)
        return None
    outbox.rewrite(message.id, written)
    db.session.commit()
    return dataclasses.replace(message, sender=outbox.envelope_sender(written["From"]),
                               recipient=written["To"], message=written.as_string())


# Why events queued while the webhook was set are not sent after an operator unset it.
WEBHOOK_OFF = ("the webhook is switched off (ENGAGEMENT_MODERATION_WEBHOOK_URL is not set); "
               "set it and its secret again, then `outbox retry-failed`, to send it")


def _post_webhooks(batch: list[outbox.Claimed], stopping: Callable[[], bool]) -> Delivered:
    """POST each to the webhook URL set now, signed with the secret set now (an operator's fix
    reaches the retries of events queued before it). With no URL set any more, none is sent:
    each is kept as failed, saying why."""
    url = current_app.config["MODERATION_WEBHOOK_URL"]
    if not url:
        done = Delivered()
        for message in batch:
            outbox.record_failure(message, WEBHOOK_OFF, permanent=True, now=now())
            done.failed += 1
        db.session.commit()
        log.error("%d webhook events not sent: %s", done.failed, WEBHOOK_OFF)
        return done
    secret = current_app.config["WEBHOOK_SECRET"]  # set with the URL: the config checks it
    return _deliver_each(batch, stopping, lambda message: post_webhook(
        url, message.message.encode(), secret))


def _deliver_each(batch: list[outbox.Claimed], stopping: Callable[[], bool],
                  send: Callable[[outbox.Claimed], None]) -> Delivered:
    """`send` each claimed message, its claim renewed and committed before and its result
    committed after. When `stopping` turns true, the rest of the batch is released for another
    deliverer at once; when the connection breaks, the rest waits for its next try."""
    done = Delivered()
    for position, message in enumerate(batch):
        if stopping():
            outbox.release_claims(message.claim)
            db.session.commit()
            break
        outbox.renew_claims(message.claim, now=now())
        db.session.commit()
        try:
            send(message)
        except DeliveryError as error:
            _failed(message, error, done)
            if error.broken or error.refuses_all:
                why = "the connection broke" if error.broken else "the server refuses all"
                for untried in batch[position + 1:]:  # said once, by the message tried
                    _failed(untried, DeliveryError(f"not tried: {why}"), done, said=False)
                break
            continue
        outbox.record_sent(message)
        db.session.commit()
        done.sent += 1
        log.debug("%s %s delivered", message.kind, message.id)  # rounds are counted (worker.py)
    return done


def _failed(message: outbox.Claimed, error: DeliveryError, done: Delivered, *,
            said: bool = True) -> None:
    outbox.record_failure(message, str(error), permanent=error.permanent, now=now())
    db.session.commit()
    if not said:
        done.retrying += 1
        log.debug("%s %s %s", message.kind, message.id, error)
    elif error.permanent:
        done.failed += 1
        log.error("%s %s refused for good: %s", message.kind, message.id, error)
    elif error.refuses_all:
        done.retrying += 1
        log.error("%s %s not delivered, will retry: %s", message.kind, message.id, error)
    else:
        done.retrying += 1
        log.warning("%s %s not delivered, will retry: %s", message.kind, message.id, error)


# Every deliverer thread of this process, for stop_background_delivery.
_deliverers: weakref.WeakSet[Deliverer] = weakref.WeakSet()


def stop_background_delivery() -> None:
    """A serving process exits (gunicorn's worker_exit): each deliverer finishes the message in
    hand and releases the rest of its claim, so another process sends them without delay."""
    for deliverer in list(_deliverers):
        deliverer.stop()


class Deliverer:
    """The serving process's deliverer: a lane (a daemon thread) for mail and one for webhooks,
    so that a slow webhook never holds up mail."""

    def __init__(self, app: Flask):
        self.lanes = tuple(_Lane(app, kind) for kind in LANES)
        _deliverers.add(self)

    @property
    def running(self) -> bool:
        return any(lane.running for lane in self.lanes)

    def wake(self) -> None:
        for lane in self.lanes:
            lane.wake()

    def look_in(self) -> None:
        for lane in self.lanes:
            lane.look_in()

    def stop(self, timeout: float = 15.0) -> None:
        for lane in self.lanes:
            lane.stopping()
        for lane in self.lanes:
            lane.stop(timeout)


class _Lane:
    """A daemon thread of the serving process that delivers one kind of the outbox's messages.
    It starts when a commit queued some, or when the process serves a request while it is not
    running (at most once a minute: this picks up messages queued before a restart or by
    another process); it sleeps until the next retry is due while messages wait, and ends when
    none does."""

    def __init__(self, app: Flask, kind: OutboxKind):
        self.app = app
        self.kind = kind
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stopping = False
        self._last_look = float("-inf")

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def wake(self) -> None:
        with self._lock:
            self._wake.set()  # set under the lock: a thread about to end sees it
            if self._stopping or self.running:
                return
            # Forked workers (gunicorn --preload) start their own thread.
            self._pid = os.getpid()
            self._last_look = time.monotonic()
            self._thread = threading.Thread(target=self._run, name=f"engagement-{self.kind}",
                                            daemon=True)
            self._thread.start()

    def look_in(self) -> None:
        """Before a request: start a pass if none ran lately."""
        if not self.running and time.monotonic() - self._last_look >= IDLE_LOOK_SECONDS:
            self.wake()

    def stopping(self) -> None:
        """Finish the message in hand, then stop."""
        with self._lock:
            self._stopping = True
            self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping()
        with self._lock:
            thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            nap = self._pass()
            with self._lock:
                if nap is None and not self._wake.is_set():
                    self._thread = None
                    return
            if nap:
                self._wake.wait(nap)

    def _pass(self) -> float | None:
        """Deliver what is due; how long to sleep until the next message is due, or None when
        nothing waits."""
        try:
            with self.app.app_context():
                server = current_app.extensions[EXTENSION].server
                deliver_outbox(server, stopping=lambda: self._stopping, kinds=(self.kind,))
                due = outbox.next_attempt_at(self.kind)
                if due is None:
                    return None
                return min(max((due - now()).total_seconds(), 0.05), LONGEST_NAP)
        except SQLAlchemyError as error:
            # The messages stay queued; the next look (a request, a commit) tries again.
            first_line = (str(getattr(error, "orig", None) or error).splitlines() or [""])[0]
            log.warning("mail delivery paused, the database did not answer: %s", first_line)
            return None
        except Exception:
            log.exception("mail delivery pass failed")
            return None


class Mail:
    """The app's mail state: its server, its deliverer, and the cached probe for /readyz."""

    def __init__(self, app: Flask, server: MailServer):
        self.server = server
        self.deliverer = Deliverer(app)
        self._probe: tuple[float, bool] | None = None

    def status(self) -> str:
        """"ok", or "degraded" when the mail server does not accept connections (checked at
        most every few seconds, so probes cannot flood it)."""
        if self.server.console:
            return "ok"
        cached = self._probe
        if cached is None or time.monotonic() - cached[0] >= PROBE_CACHE_SECONDS:
            cached = (time.monotonic(), reachable(self.server, PROBE_TIMEOUT))
            self._probe = cached
        return "ok" if cached[1] else "degraded"


def mail_status() -> str:
    return current_app.extensions[EXTENSION].status()


def look_in() -> None:
    """Before serving a request (Flask's, or a read answered before Flask): start a delivery
    pass if none ran lately, for mail queued before a restart or by another process."""
    current_app.extensions[EXTENSION].deliverer.look_in()


def _wake_after_commit(session: Session) -> None:
    if session.info.pop(outbox.MAIL_WAITING, False):
        mail = current_app.extensions.get(EXTENSION)
        if mail is not None and current_app.config["MAIL_BACKGROUND"]:
            mail.deliverer.wake()


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(outbox.MAIL_WAITING, None)


def register_batch_writer(app: Flask, prefix: str, writer: outbox.BatchWriter) -> None:
    """`writer` writes the messages of batches whose key starts with `prefix:`, when due."""
    app.extensions.setdefault(BATCH_WRITERS, {})[prefix] = writer


def register_mail(app: Flask) -> None:
    """Check ENGAGEMENT_MAIL_URL, and deliver in the background of a serving process unless
    ENGAGEMENT_MAIL_BACKGROUND is off."""
    try:
        server = parse_mail_url(app.config["MAIL_URL"])
    except ValueError as error:
        raise ConfigError(f"ENGAGEMENT_MAIL_URL: {error}") from None
    server = dataclasses.replace(server, timeout=app.config["MAIL_TIMEOUT"])
    mail = Mail(app, server)
    app.extensions[EXTENSION] = mail
    if app.config["MAIL_BACKGROUND"]:
        app.before_request(look_in)
    # One listener for every app's sessions; each finds its own app when it fires.
    session_class = db.session.session_factory.class_
    for event, listener in (("after_commit", _wake_after_commit),
                            ("after_rollback", _forget_after_rollback)):
        if not sa.event.contains(session_class, event, listener):
            sa.event.listen(session_class, event, listener)
