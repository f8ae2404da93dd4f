"""Real services of the test's own, on free ports: an SMTP server (aiosmtpd) that keeps what it
receives, and a PostgreSQL and a Redis for fault tests that freeze them (SIGSTOP), thaw them
(SIGCONT) or stop them: never the machine's shared servers."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.live import free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class SmtpServer:
    """A real SMTP server in a thread of the test, keeping every message it accepts. It may be
    started late (or stopped and started again) on the same port."""

    def __init__(self):
        self.port = free_port()
        self.controller: Controller | None = None
        self.reset()

    def reset(self) -> None:
        """No mail received, and no refusal, login or delay set."""
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply
        self.logins: list[tuple[str, str]] = []
        self.data_delay = 0.0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, **options) -> SmtpServer:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     enable_SMTPUTF8=True, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"{len(self.received)} of {count} messages came"
        return self.received


def missing(what: str) -> None:
    """A test that needs `what` skips without it, and fails under CI, which must have it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"under CI, {what} is required")
    pytest.skip(f"needs {what}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Frozen:
    """Freezing a server process and every process it started, as a hung host would be."""

    process: subprocess.Popen

    def pids(self) -> list[int]:
        return [self.process.pid, *_children(self.process.pid)]

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        frozen = self.pids()
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in frozen:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)


class OwnPostgres(Frozen):
    """initdb and postgres in a temporary directory, as the postgres user when run as root
    (initdb refuses root)."""

    def __init__(self):
        if not (POSTGRES_BIN / "initdb").exists():
            missing(f"PostgreSQL binaries in {POSTGRES_BIN}")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="engagement-pg-"))
        self.user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.user:
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> dict:
        if not self.user:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self) -> OwnPostgres:
        data = self.directory / "data"
        subprocess.run([POSTGRES_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True,
                       **self._run_as())
        self.process = subprocess.Popen(
            [POSTGRES_BIN / "postgres", "-D", data, "-p", str(self.port), "-k", self.directory,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50",
             "-c", "full_page_writes=off", "-c", "synchronous_commit=off"],
            stdout=subprocess.DEVNULL, stderr=(self.directory / "postgres.log").open("wb"),
            start_new_session=True, **self._run_as())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready = subprocess.run([POSTGRES_BIN / "pg_isready", "-h", "127.0.0.1", "-p",
                                    str(self.port)], capture_output=True)
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError("the test's PostgreSQL did not start")

    def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        name = f"engagement_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.process.send_signal(signal.SIGQUIT)  # immediate shutdown
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class OwnRedis(Frozen):
    def __init__(self, directory: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            missing("redis-server on the PATH")
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGCONT)
        self.process.terminate()
        self.process.wait(timeout=10)

