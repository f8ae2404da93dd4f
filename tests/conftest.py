"""Fixtures the flaskr way: a fresh app and database per test, built with create_app.

The database is SQLite unless DATABASE_URL names a PostgreSQL server, in which case the whole
suite runs there. Tests marked `postgres` always need PostgreSQL (DATABASE_URL, else
TEST_POSTGRES_URL, else the local server); without one they are skipped with the
reason, except under CI, where a missing PostgreSQL fails them."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from engagement import create_app
from engagement.extensions import db

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


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own on the PostgreSQL server, for this test run only (so runs in
    parallel do not meet), holding the migrated schema; each test empties it of rows."""
    url = sa.make_url(postgres_url_from_env())
    run_database = f"{url.database}_run_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{run_database}"'))
    except sa.exc.OperationalError as exc:
        server.dispose()
        reason = f"needs PostgreSQL at {url.render_as_string()}: {str(exc.orig).splitlines()[0]}"
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
def sqlite_template(tmp_path_factory) -> str:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "engagement.sqlite3"
    _migrated_app(f"sqlite:///{path}")
    return str(path)


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database_url(request, tmp_path) -> str:
    if suite_on_postgres() or request.node.get_closest_marker("postgres"):
        url = request.getfixturevalue("postgres_url")
        _empty_postgres(url)
        return url
    path = tmp_path / "engagement.sqlite3"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(database_url, clock):
    """create_app on this test's database, with settings of the test's own.

    Limits stay on, counted in memory, but generous: a test that posts twenty comments is not
    about limits. tests/test_limits.py sets real ones."""
    apps = []

    def make(**settings):
        app = create_app({
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "AUTO_MIGRATE": False,
            "CLOCK": clock,
            "RATELIMIT_STORAGE_URI": "memory://",
            **GENEROUS_LIMITS,
            **settings,
        })
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


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


def make_token(app, name="moderator", role="moderator") -> str:
    """A token made the way operators make them: the command line, last line of its output."""
    result = app.test_cli_runner().invoke(
        args=["tokens", "create", "--name", name, "--role", role])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture
def moderator(app):
    """Headers of a moderator's token for the admin API."""
    return {"Authorization": f"Bearer {make_token(app)}"}
