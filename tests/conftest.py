"""Fixtures the flaskr way: an app from create_app and a fresh database for each test.

The database is SQLite unless DATABASE_URL names a PostgreSQL server, in which case the whole
suite runs there. Tests marked `postgres` always need PostgreSQL (DATABASE_URL, else
TEST_POSTGRES_URL, else the local server); without one they are skipped with the
reason, except under CI, where a missing PostgreSQL fails them.

Speed without shared state: each test worker (pytest-xdist) migrates one database of its own
once, and each test starts on it emptied of every row. An app is built once per worker for each
configuration (settings and ENGAGEMENT_* environment) and handed to each test as it was built:
its settings restored, the test's clock, fresh rate-limit counts and a fresh mail deliverer. A
test that changes an app's shape (adds a route, a hook or an engine listener) leaves it behind:
the next test gets a new one. Each test file runs on one worker (`--dist loadfile`), so that a
module's servers (nginx stacks, gunicorn, Chromium) start once.

Tests marked `live` start processes of their own: gunicorn, nginx, Chromium, a command of the
project's, a PostgreSQL or Redis to freeze. `-m 'not live'` leaves them out, for a quick run
in this process only; a test that starts a process without the mark fails, saying so."""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engagement import create_app
from engagement.answers import register_answer_cache
from engagement.extensions import db, limiter
from engagement.mail import delivery
from tests.services import SmtpServer

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GENEROUS_LIMITS = {
    f"LIMIT_{kind}": "10000/minute"
    for kind in ("COMMENTS", "EDITS", "FLAGS", "SHARES", "VOTES", "SUBSCRIPTIONS", "READS",
                 "ADMIN")
}
TEST_SECRET = "test-secret-key"


def postgres_url_from_env() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    return os.environ.get("TEST_POSTGRES_URL", LOCAL_POSTGRES)


def suite_on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgresql")


@dataclass
class Clock:
    """A clock the test moves by hand."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 27, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


def _migrated_app(url: str):
    """Build the schema the way operators do: the Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def postgres_server(url: sa.URL) -> sa.Engine:
    """The server of `url`, reached through its maintenance database `postgres`: the database
    the URL names need not exist, since tests only make databases beside it."""
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def scratch_postgres_database(label: str) -> Iterator[str]:
    """The URL of an empty database of its own beside the test database, dropped after."""
    url = sa.make_url(postgres_url_from_env())
    name = f"{url.database}_{label}_{uuid.uuid4().hex[:8]}"
    server = postgres_server(url)
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own on the PostgreSQL server, for this test run only (so runs in
    parallel do not meet), holding the migrated schema; each test empties it of rows."""
    url = sa.make_url(postgres_url_from_env())
    run_database = f"{url.database}_run_{uuid.uuid4().hex[:8]}"
    server = postgres_server(url)
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{run_database}"'))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        server.dispose()
        reason = (f"needs PostgreSQL at {url.render_as_string()} with a role that may create "
                  f"databases (createuser --createdb, or TEST_POSTGRES_URL naming one): "
                  f"{str(exc.orig).splitlines()[0]}")
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI, PostgreSQL is required: {reason}")
        pytest.skip(reason)
    run_url = url.set(database=run_database).render_as_string(hide_password=False)
    try:
        _migrated_app(run_url)
        yield run_url
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{run_database}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def sqlite_folder(tmp_path_factory) -> Iterator[Path]:
    """Where the worker's SQLite files live: in memory (/dev/shm) where the machine has it.
    SQLite syncs the disk at each commit (journal_mode=WAL, synchronous=FULL), which took a
    sixth of the in-process suite's time and tells nothing about the service."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path_factory.mktemp("sqlite")
        return
    folder = Path(tempfile.mkdtemp(prefix="engagement-tests-", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(sqlite_folder) -> str:
    """A migrated SQLite file (one per worker)."""
    path = sqlite_folder / "template.sqlite3"
    _migrated_app(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def sqlite_database(sqlite_template, sqlite_folder) -> str:
    """The worker's SQLite database, a copy of the template that each test empties."""
    path = sqlite_folder / "engagement.sqlite3"
    shutil.copy(sqlite_template, path)
    return str(path)


# Tests start on an emptied database: every row deleted in place, ids starting again at 1, in
# one round trip. DELETE, not TRUNCATE: on PostgreSQL, truncating 21 small tables took 45 ms a
# test; this takes 1 ms. The file or database stays, so a connection a test left open sees the
# same one, never a replaced one.
@functools.cache
def _deletes() -> str:
    return "".join(f"DELETE FROM {table.name};" for table in reversed(db.metadata.sorted_tables))


@functools.cache
def _postgres_emptier(url: str) -> tuple[sa.Engine, str]:
    """A connection kept for the worker's run, and the script that empties its database."""
    engine = sa.create_engine(url, pool_size=1, pool_pre_ping=True)
    with engine.connect() as connection:
        sequences = connection.scalars(sa.text(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
            "FROM pg_sequences")).all()
    restarts = ", ".join(f"setval('{sequence}', 1, false)" for sequence in sequences)
    return engine, f"{_deletes()} SELECT {restarts}"


def _empty_postgres(url: str) -> None:
    engine, script = _postgres_emptier(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(script)


def _empty_sqlite(path: str, template: str) -> None:
    if not os.path.exists(path):  # a test took it away
        shutil.copy(template, path)
        return
    connection = sqlite3.connect(path)
    try:
        # sqlite_sequence: where tables that never reuse an id keep their last one.
        connection.executescript(f"BEGIN; {_deletes()} DELETE FROM sqlite_sequence; COMMIT;")
    finally:
        connection.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database_url(request) -> str:
    if suite_on_postgres() or request.node.get_closest_marker("postgres"):
        url = request.getfixturevalue("postgres_url")
        _empty_postgres(url)
        return url
    path = request.getfixturevalue("sqlite_database")
    _empty_sqlite(path, request.getfixturevalue("sqlite_template"))
    return f"sqlite:///{path}"


# Settings whose values are plain data name a configuration; an app built with anything else
# (a callable, an object) is used by its test only.
_PLAIN = (str, int, float, bool, type(None))


def _plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return isinstance(value, _PLAIN)


def _configuration(database_url: str, settings: dict) -> str | None:
    """What create_app reads: the settings and the ENGAGEMENT_* environment."""
    if not all(_plain(value) for value in settings.values()):
        return None
    environment = sorted((key, value) for key, value in os.environ.items()
                         if key.startswith("ENGAGEMENT_") or key == "DATABASE_URL")
    return repr((database_url, sorted(settings.items()), environment))


def _shape(app: Flask) -> tuple:
    """What a test could add to an app that would outlive it: routes, hooks, engine listeners."""
    with app.app_context():
        engine = db.engine
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    return (
        len(list(app.url_map.iter_rules())),
        tuple(sum(len(funcs) for funcs in hook.values()) for hook in hooks),
        sum(len(handlers) for by_code in app.error_handler_spec.values()
            for handlers in by_code.values()),
        len(app.teardown_appcontext_funcs),
        tuple(len(getattr(engine.dispatch, name)) for name in ENGINE_EVENTS),
    )


ENGINE_EVENTS = ("before_cursor_execute", "after_cursor_execute", "before_execute",
                 "after_execute", "engine_connect", "begin", "commit", "rollback")


@dataclass
class BuiltApp:
    """An app as create_app left it: its settings and shape, to hand it to the next test so."""

    app: Flask
    config: dict[str, Any]
    shape: tuple

    @classmethod
    def build(cls, config: dict[str, Any]) -> BuiltApp:
        app = create_app(config)
        kept = {key: copy.deepcopy(value) for key, value in app.config.items() if key != "CLOCK"}
        return cls(app, kept, _shape(app))

    def reuse(self, clock: Clock) -> Flask:
        """The app as built, for a new test: no counts, threads or settings of the last one."""
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config), CLOCK=clock)
        mail = app.extensions[delivery.EXTENSION]
        app.extensions[delivery.EXTENSION] = delivery.Mail(app, mail.server)
        limiter.init_app(app)  # binds the limiter to this app's settings, with new counts
        # Answers are cached by article version, and a new test's database starts versions
        # afresh: the last test's answers must not be served for them.
        register_answer_cache(app)
        # Flask refuses new routes once an app has served; a fresh app would take them.
        app._got_first_request = False
        return app

    def release(self) -> bool:
        """Stop what the test started in the app; whether the app is as it was built."""
        self.app.extensions[delivery.EXTENSION].deliverer.stop()
        with self.app.app_context():
            db.engine.dispose()
        return _shape(self.app) == self.shape


class AppCache:
    """Built apps of this worker by configuration, the least recently used dropped first."""

    def __init__(self, size: int = 12):
        self.size = size
        self.idle: OrderedDict[str, list[BuiltApp]] = OrderedDict()

    def take(self, key: str | None) -> BuiltApp | None:
        if key is None or not self.idle.get(key):
            return None
        self.idle.move_to_end(key)
        return self.idle[key].pop()

    def put(self, key: str, built: BuiltApp) -> None:
        self.idle.setdefault(key, []).append(built)
        self.idle.move_to_end(key)
        while sum(len(apps) for apps in self.idle.values()) > self.size:
            self.idle.popitem(last=False)


APPS = AppCache()


@pytest.fixture
def make_app(database_url, clock):
    """create_app on this test's database, with settings of the test's own.

    Limits stay on, counted in memory, but generous: a test that posts twenty comments is not
    about limits. tests/test_limits.py sets real ones. Mail is delivered in the background only
    for a test that names a MAIL_URL (a server it runs) or MAIL_BACKGROUND: no other test
    starts a mail thread. Two calls with the same settings give two apps (two processes)."""
    taken: list[tuple[str | None, BuiltApp]] = []

    def make(**settings):
        if "MAIL_URL" not in settings:
            settings.setdefault("MAIL_BACKGROUND", False)
        key = _configuration(database_url, settings)
        built = APPS.take(key)
        if built is None:
            built = BuiltApp.build({
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": TEST_SECRET,
                "AUTO_MIGRATE": False,
                "CLOCK": clock,
                "RATELIMIT_STORAGE_URI": "memory://",
                **GENEROUS_LIMITS,
                **settings,
            })
            app = built.app
        else:
            app = built.reuse(clock)
        # The limiter is one object for every app: a store outage an earlier test caused
        # (flask-limiter's private flag, which limits.py reads too) must not carry over.
        limiter._storage_dead = False
        taken.append((key, built))
        return app

    yield make
    for key, built in taken:
        if built.release() and key is not None:
            APPS.put(key, built)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def comment_fields(**fields) -> dict:
    """A valid comment body, with the fields a test cares about changed."""
    return {"author_name": "Ada", "author_email": "ada@example.com", "body": "First!", **fields}


@pytest.fixture
def post_comment(client):
    """Post a comment through the API; returns the 201 answer's JSON."""

    def post(article="an-article", **fields):
        response = client.post(
            f"/api/v1/articles/{article}/comments", json=comment_fields(**fields)
        )
        assert response.status_code == 201, response.json
        return response.json

    return post


@contextlib.contextmanager
def database_log(app: Flask) -> Iterator[list[str]]:
    """Every statement the app sends its database within the block, and "COMMIT" for each
    commit, in order: what a request costs the database, as an operator would see it."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def statement(_connection, _cursor, text, *_):
        sent.append(text)

    def commit(_connection):
        sent.append("COMMIT")

    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(engine, "commit", commit)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(engine, "commit", commit)


def race(app: Flask, act: Callable[[Any, int], Any], count: int = 16) -> list:
    """`act(client, n)` for n in range(count), each in a thread with a client of its own, all
    released at the same moment: what the database must settle, as concurrent requests."""
    barrier = threading.Barrier(count)

    def run(n):
        client = app.test_client()
        barrier.wait(timeout=60)
        return act(client, n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def deliver(app) -> str:
    """`flask outbox deliver` as an operator runs it (from cron, say): its summary, after
    checking its status, 1 when it tried and delivered nothing."""
    result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
    summary = result.output.strip()
    none_delivered = summary.startswith("sent 0,") and summary != "sent 0, retrying 0, failed 0"
    assert result.exit_code == int(none_delivered), result.output
    return summary


def make_token(app, name="moderator", role="moderator") -> str:
    """A token made the way operators make them: the command line, last line of its output."""
    result = app.test_cli_runner().invoke(
        args=["tokens", "create", "--name", name, "--role", role])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def worker_smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(worker_smtp_server) -> SmtpServer:
    """A real SMTP server, keeping every message it accepts: the worker's, emptied of the last
    test's mail and settings. One port for every test keeps MAIL_URL, and so the app's
    configuration, the same: a port of each test's own built an app for each (70 ms)."""
    worker_smtp_server.reset()
    return worker_smtp_server


@pytest.fixture
def stopped_smtp_server() -> Iterator[SmtpServer]:
    """A port where the SMTP server is down until the test starts it."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def moderator(app):
    """Headers of a moderator's token for the admin API."""
    return {"Authorization": f"Bearer {make_token(app)}"}


# The test being run, for the audit hook below.
_running: list[pytest.Item] = []


def _refuse_unmarked_processes(event: str, args: tuple) -> None:
    if event == "subprocess.Popen" and _running and not _running[0].get_closest_marker("live"):
        raise RuntimeError(f"{_running[0].nodeid} starts a process ({args[0]}): mark it "
                           f"@pytest.mark.live, or -m 'not live' would not be in-process only")


sys.addaudithook(_refuse_unmarked_processes)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.clear()
