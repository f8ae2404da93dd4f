"""The outbox's worker process, `flask --app engagement outbox deliver --watch`: it delivers
what is due (mail and webhooks each in a thread of its own, so that a slow webhook receiver
never holds up mail), then waits without asking the database again and again: on PostgreSQL
it LISTENs for the commits that queue messages (NOTIFY), elsewhere it looks in at growing
intervals.

SIGTERM or SIGINT: the message being sent is finished, the rest of the claim is released for
another deliverer, and the process exits. SIGHUP (a deploy): the same, then the process starts
itself again with the same command line, so that new code and settings take effect."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from engagement.clock import now
from engagement.extensions import db
from engagement.mail import outbox
from engagement.mail.delivery import Delivered, deliver_outbox
from engagement.mail.models import OutboxKind
from engagement.mail.transport import MailServer

log = logging.getLogger("engagement.mail")

# Without a notification, look at the outbox at least this often (a message queued by a
# process that could not notify, a retry that came due).
LISTENING_LONGEST_NAP = 60.0
# Without LISTEN (SQLite), an idle worker looks in after 1 s, then 2, 4, ... up to 30 s.
POLLING_FIRST_NAP = 1.0
POLLING_LONGEST_NAP = 30.0
# The worker checks for a stop signal this often while it waits.
SIGNAL_CHECK_SECONDS = 0.5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopSignal:
    """The first stop signal received; true once one came."""

    def __init__(self):
        self.received: int | None = None
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._receive)

    def _receive(self, signum, _frame) -> None:
        if self.received is None:
            log.info("outbox worker: %s, stopping after the message in hand",
                     signal.Signals(signum).name)
            self.received = signum

    def __call__(self) -> bool:
        return self.received is not None


class Listener:
    """A connection of its own that LISTENs on the outbox channel (PostgreSQL)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.raw = None

    def wait(self, seconds: float, stop: Callable[[], bool]) -> None:
        """Until a notification, `seconds`, or a stop signal, whichever comes first."""
        deadline = time.monotonic() + seconds
        try:
            connection = self._connection()
            while not stop() and (left := deadline - time.monotonic()) > 0:
                for _ in connection.notifies(timeout=min(left, SIGNAL_CHECK_SECONDS),
                                             stop_after=1):
                    return
        except Exception as error:  # the database went away: listen again next time
            log.warning("outbox worker: listening failed (%s); listening again", error)
            self.close()
            _sleep(min(seconds, POLLING_FIRST_NAP), stop)

    def _connection(self):
        if self.raw is None:
            self.raw = self.engine.raw_connection()
            connection = self.raw.driver_connection
            connection.autocommit = True
            connection.execute(f"LISTEN {outbox.CHANNEL}")
        return self.raw.driver_connection

    def close(self) -> None:
        if self.raw is not None:
            try:
                self.raw.invalidate()
            except Exception:  # closing a broken connection may fail too
                pass
            self.raw = None


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not stop() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, SIGNAL_CHECK_SECONDS))


def watch(server: MailServer) -> None:
    """Deliver until a stop signal, mail in this thread and webhooks in another (a slow
    receiver never holds up mail); on SIGHUP start again as the same command."""
    stop = StopSignal()
    log.info("outbox worker: started (process %d)", os.getpid())
    app = current_app._get_current_object()
    webhooks = threading.Thread(target=_watch_in_context, args=(app, server, stop),
                                name="engagement-webhooks", daemon=True)
    webhooks.start()
    _watch_lane(OutboxKind.MAIL, server, stop)
    webhooks.join()
    db.session.remove()
    db.engine.dispose()
    if stop.received == signal.SIGHUP:
        log.info("outbox worker: starting again")
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _say_round(kind: OutboxKind, done: Delivered, troubled: bool) -> bool:
    """One line for a round that tried something (the messages' own lines are DEBUG, but for
    the failure that stopped a round), and one when delivery resumes after a round that sent
    nothing; whether this round sent nothing."""
    if not (done.sent or done.retrying or done.failed):
        return troubled
    if troubled and done.sent:
        log.info("outbox worker: %s delivery resumed", kind.value)
    log.info("outbox worker: %s: sent %d, retrying %d, failed %d", kind.value, done.sent,
             done.retrying, done.failed)
    return not done.sent


def _watch_in_context(app: Flask, server: MailServer, stop: StopSignal) -> None:
    with app.app_context():
        try:
            _watch_lane(OutboxKind.WEBHOOK, server, stop)
        finally:
            db.session.remove()


def _watch_lane(kind: OutboxKind, server: MailServer, stop: Callable[[], bool]) -> None:
    """Deliver the messages of one kind as they come, until a stop signal."""
    listener = Listener(db.engine) if db.engine.dialect.name == "postgresql" else None
    idle_nap = POLLING_FIRST_NAP
    troubled = False  # the last round that tried anything sent nothing
    while not stop():
        try:
            done = deliver_outbox(server, stopping=stop, kinds=(kind,))
            sent = done.sent
            troubled = _say_round(kind, done, troubled)
            due = outbox.next_attempt_at(kind)
            db.session.rollback()
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("outbox worker: the database did not answer: %s",
                        (str(getattr(error, "orig", None) or error).splitlines() or [""])[0])
            idle_nap = POLLING_FIRST_NAP
            _sleep(idle_nap, stop)
            continue
        until_due = (due - now()).total_seconds() if due is not None else None
        if listener is not None:
            nap = LISTENING_LONGEST_NAP if until_due is None else until_due
            listener.wait(min(max(nap, 0.05), LISTENING_LONGEST_NAP), stop)
            continue
        idle_nap = POLLING_FIRST_NAP if sent else min(idle_nap * 2, POLLING_LONGEST_NAP)
        _sleep(idle_nap if until_due is None else max(min(until_due, idle_nap), 0.05), stop)
    if listener is not None:
        listener.close()
