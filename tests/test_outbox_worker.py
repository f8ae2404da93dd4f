"""The outbox's worker, `flask --app engagement outbox deliver --watch`, as production runs it:
a process of its own sending to a real SMTP server (aiosmtpd), restarted by SIGHUP and
stopped by SIGTERM in the middle of a delivery without losing or repeating a message, and
idle without asking the database again and again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from engagement import create_app
from engagement.extensions import db
from engagement.mail.models import OutboxMessage
from tests.conftest import TEST_SECRET
from tests.live import ROOT
from tests.test_alerts import SECRET, Receiver
from tests.test_alerts import post as post_comment
from tests.test_faults import wait_for
from tests.test_mail import subscribe

pytestmark = pytest.mark.live  # `outbox deliver --watch` in processes of its own

MESSAGES = 50
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"  # a log line's time


class Worker:
    """`outbox deliver --watch` in a subprocess, its output in a file."""

    def __init__(self, database_url: str, mail_url: str, log_path,
                 program: tuple[str, ...] = (sys.executable, "-m", "flask", "--app", "engagement"),
                 **settings: str):
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("ENGAGEMENT_")}
        environment.update(DATABASE_URL=database_url, ENGAGEMENT_SECRET_KEY=TEST_SECRET,
                           ENGAGEMENT_MAIL_URL=mail_url,
                           **{f"ENGAGEMENT_{name}": value for name, value in settings.items()})
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*program, "outbox", "deliver", "--watch"], cwd=ROOT, env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)
        self.terminated = signum == signal.SIGTERM

    def stop(self) -> int:
        """SIGTERM (once: a second one may find Python already shutting down), and its exit."""
        if self.process.poll() is None and not getattr(self, "terminated", False):
            self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the worker did not stop on SIGTERM:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def claimed_messages(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.claimed_by.is_not(None)))


def wait_for_received(smtp_server, count: int, deadline: float) -> None:
    while len(smtp_server.received) < count:
        assert time.monotonic() < deadline, f"{len(smtp_server.received)} of {count} came"
        time.sleep(0.02)


@pytest.mark.postgres
def test_sighup_and_sigterm_during_a_delivery_of_50_messages_deliver_each_exactly_once(
        make_app, database_url, smtp_server, tmp_path):
    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False)
    client = app.test_client()
    for index in range(MESSAGES):
        subscribe(client, f"reader{index}@example.com")
    smtp_server.data_delay = 0.04  # a delivery of two seconds or more: signals land inside it
    started = time.monotonic()
    deadline = started + 30

    first = Worker(database_url, smtp_server.url, tmp_path / "worker.log")
    try:
        wait_for_received(smtp_server, 5, deadline)
        first.signal(signal.SIGHUP)  # a deploy: it starts again as the same command
        wait_for_received(smtp_server, 20, deadline)
        first.signal(signal.SIGTERM)
        assert first.stop() == 0, first.output()
    finally:
        first.stop()
    stopped_at = len(smtp_server.received)
    assert stopped_at < MESSAGES, "the worker finished before SIGTERM: the test proves nothing"
    assert claimed_messages(app) == 0  # released on the way out, not left for a lease to end

    second = Worker(database_url, smtp_server.url, tmp_path / "worker.log")
    try:
        wait_for_received(smtp_server, MESSAGES, deadline)
        all_delivered = time.monotonic() - started
        time.sleep(0.5)  # a duplicate would come now
    finally:
        assert second.stop() == 0, second.output()

    recipients = Counter(message["To"] for message in smtp_server.received)
    assert recipients == Counter(f"reader{index}@example.com" for index in range(MESSAGES))
    assert all_delivered < 30
    output = first.output()
    assert "SIGHUP" in output and "starting again" in output and "SIGTERM" in output
    # Each start says so: the first worker, again after its SIGHUP, and the second (one log).
    assert output.count("outbox worker: started") == 3


@pytest.mark.parametrize("database", [
    pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_slow_webhook_receiver_does_not_hold_up_mail(
        make_app, database_url, smtp_server, tmp_path, database):
    receiver = Receiver().start()
    receiver.delay = 3.0  # six events take the receiver 18 s
    settings = {"MODERATION_WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET}
    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False, BLOCKED_WORDS=["casino"],
                   **settings)
    client = app.test_client()
    for n in range(6):
        post_comment(client, body=f"casino {n}")
    worker = Worker(database_url, smtp_server.url, tmp_path / "worker.log", **settings)
    try:
        assert wait_for(lambda: receiver.arrived >= 1, timeout=10), worker.output()

        queued = time.monotonic()
        subscribe(client)
        smtp_server.wait_for(1, timeout=15)
        waited = time.monotonic() - queued
        assert len(receiver.posts) < 6  # the receiver was still busy with the webhooks
    finally:
        assert worker.stop() == 0, worker.output()
        receiver.stop()
    assert waited < 4, f"the confirmation waited {waited:.1f} s behind the webhooks"


def sessions(database_url: str) -> set[tuple]:
    """The other clients' sessions on this database, each with its last statement and when its
    state last changed: a statement sent, or a new connection, changes the set at once
    (pg_stat_database's transaction counts reach other sessions up to 10 s late)."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT pid, state, state_change, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()")).all()
    engine.dispose()
    return {tuple(row) for row in rows}


def listening(database_url: str) -> bool:
    return any(state == "idle" and query.startswith("LISTEN")
               for _, state, _, query in sessions(database_url))


@pytest.mark.postgres
def test_an_idle_worker_waits_for_a_notification_instead_of_polling(
        make_app, database_url, smtp_server, tmp_path):
    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False)
    worker = Worker(database_url, smtp_server.url, tmp_path / "worker.log")
    try:
        # Started, looked once, now idle: it LISTENs.
        assert wait_for(lambda: listening(database_url), timeout=30), worker.output()
        before = sessions(database_url)
        time.sleep(3)  # a worker that looked in every 3 s or more often would show here
        assert sessions(database_url) == before, "the idle worker asked the database again"

        queued = time.monotonic()
        subscribe(app.test_client())
        smtp_server.wait_for(1, timeout=5)
        assert time.monotonic() - queued < 2  # woken by the commit's NOTIFY, not a timer
    finally:
        assert worker.stop() == 0, worker.output()


def test_web_processes_deliver_mail_themselves_only_on_the_embedded_default(
        tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ENGAGEMENT_MAIL_BACKGROUND", raising=False)
    monkeypatch.chdir(tmp_path)
    production = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}",
                             "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    assert production.config["MAIL_BACKGROUND"] is False
    embedded = create_app({"SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    assert embedded.config["MAIL_BACKGROUND"] is True


def test_the_worker_says_each_round_once_and_when_delivery_resumes(
        make_app, database_url, smtp_server, tmp_path):
    """As operators run it (`engagement`, quiet but for warnings), the worker's log says what
    it does: a line per round, not per message, one warning for a round the server is down,
    and when delivery resumes."""
    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False)
    smtp_server.stop()
    for index in range(3):
        subscribe(app.test_client(), f"reader{index}@example.com")
    worker = Worker(database_url, smtp_server.url, tmp_path / "worker.log",
                    program=(str(Path(sys.executable).parent / "engagement"),))
    try:
        assert wait_for(lambda: "retrying 3" in worker.output(), timeout=30), worker.output()
        smtp_server.start()
        subscribe(app.test_client(), "reader3@example.com")  # due now; the others in 30 s
        smtp_server.wait_for(1, timeout=30)
        assert wait_for(lambda: "sent 1" in worker.output(), timeout=10), worker.output()
    finally:
        assert worker.stop() == 0, worker.output()

    lines = worker.output().splitlines()
    stamped = re.compile(rf"{STAMP} \[{worker.process.pid}\] [A-Z]+ ")  # when, which process
    assert all(stamped.match(line) for line in lines), lines
    assert sum("outbox worker: started" in line for line in lines) == 1
    assert sum("not delivered" in line for line in lines) == 1  # the round's, not each one's
    assert sum("mail: sent 0, retrying 3, failed 0" in line for line in lines) == 1
    (resumed,) = [at for at, line in enumerate(lines) if " INFO " in line
                  and line.endswith("outbox worker: mail delivery resumed")]
    assert "mail: sent 1, retrying 0, failed 0" in lines[resumed + 1]
    assert not [line for line in lines if line.endswith(" delivered")]
