"""The `engagement` command as an operator types it: quiet by default, a bad setting said in
one line that names it, PostgreSQL URLs as hosting platforms write them, and migrations that
replicas starting together cannot run twice."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from engagement import create_app
from engagement.extensions import db
from tests.conftest import TEST_SECRET, scratch_postgres_database

COMMAND = Path(sys.executable).with_name("engagement")


def engagement(*args: str, **settings: str) -> subprocess.CompletedProcess:
    """Run the console script in an environment of `settings` (no ENGAGEMENT_* of the shell)."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("ENGAGEMENT_") and key not in ("DATABASE_URL", "PORT")}
    return subprocess.run([str(COMMAND), *args], env={**environment, **settings},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_sqlite(tmp_path) -> dict[str, str]:
    """Settings of an empty SQLite database that the command migrates on start, as the
    embedded default does."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'engagement.sqlite3'}",
            "ENGAGEMENT_AUTO_MIGRATE": "true"}


@pytest.mark.live
def test_the_console_script_is_installed_and_names_its_commands():
    result = engagement("--help")
    assert result.returncode == 0, result.stderr
    for group in ("db", "tokens", "outbox", "comments"):
        assert f"  {group} " in result.stdout
    assert "--app" not in result.stdout  # the application is this one
    assert result.stderr == ""


@pytest.mark.live
def test_commands_are_quiet_without_a_secret_key_or_migration_chatter(fresh_sqlite):
    result = engagement("tokens", "create", "--name", "alice", "--role", "moderator",
                        **fresh_sqlite)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("eng_")  # the token alone on stdout
    assert "SECRET_KEY" not in result.stderr  # a key the command does not use
    assert "alembic" not in result.stderr  # it migrated the empty database silently
    assert result.stderr.strip() == "Token for alice (moderator); store it now, it is not kept:"

    listed = engagement("tokens", "list", **fresh_sqlite)
    assert listed.returncode == 0 and listed.stdout.startswith("alice\tmoderator\t")


@pytest.mark.live
def test_verbose_shows_what_the_commands_log(fresh_sqlite):
    result = engagement("-v", "tokens", "list", **fresh_sqlite)
    assert result.returncode == 0, result.stderr
    assert "alembic.runtime.migration" in result.stderr


@pytest.mark.parametrize(("settings", "line"), [
    ({"ENGAGEMENT_MAX_LINKS": "two"},
     "Error: ENGAGEMENT_MAX_LINKS must be a whole number, not 'two'"),
    ({"ENGAGEMENT_ENV": "production"}, "Error: ENGAGEMENT_SECRET_KEY is required in production"),
    ({"DATABASE_URL": "mysqlx://root:hunter2@db/engagement"},
     "Error: DATABASE_URL must be postgresql://user:password@host:5432/name or sqlite:///path, "
     "not a 'mysqlx' URL"),
    ({"DATABASE_URL": "mysql://root:hunter2@db/engagement"},
     "Error: DATABASE_URL must be postgresql://user:password@host:5432/name or sqlite:///path, "
     "not a 'mysql' URL"),
    ({"ENGAGEMENT_RATELIMIT_STORAGE_URI": "bogus://root:hunter2@x"},
     "Error: ENGAGEMENT_RATELIMIT_STORAGE_URI is not a rate-limit store such as "
     "redis://host:6379/0: unknown storage scheme : bogus://root:***@x"),
    ({"ENGAGEMENT_CACHE_URL": "bogus://"},
     "Error: ENGAGEMENT_CACHE_URL is not a Redis URL such as redis://host:6379/1: Redis URL must "
     "specify one of the following schemes (redis://, rediss://, unix://)"),
    ({"ENGAGEMENT_MAIL_URL": "ftp://x"},
     "Error: ENGAGEMENT_MAIL_URL is not a mail URL: the scheme must be console, smtp or smtps, "
     "not 'ftp'"),
])
@pytest.mark.live
def test_a_bad_setting_is_one_line_naming_it(settings, line):
    result = engagement("tokens", "list", **settings)
    assert result.returncode != 0
    assert result.stderr.strip() == line  # no traceback, and never the password
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_as_platforms_write_them_use_psycopg(monkeypatch, scheme):
    monkeypatch.setenv("DATABASE_URL", f"{scheme}://user:secret@db.internal:5432/engagement")
    app = create_app({"SECRET_KEY": TEST_SECRET})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://user:secret@db.internal:5432/engagement")


def test_emailed_links_follow_the_port_in_development(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "8001")
    monkeypatch.delenv("ENGAGEMENT_PUBLIC_BASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    assert create_app({"DATABASE_URL": url})
    assert create_app({"DATABASE_URL": url}).config["PUBLIC_BASE_URL"] == "http://127.0.0.1:8001"
    monkeypatch.setenv("ENGAGEMENT_PUBLIC_BASE_URL", "https://comments.news.example")
    assert create_app({"DATABASE_URL": url}).config["PUBLIC_BASE_URL"] == (
        "https://comments.news.example")


def test_the_embedded_start_keeps_no_connection_after_migrating(tmp_path):
    # gunicorn --preload migrates in the master: a connection kept there would be shared by
    # every forked worker.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}",
                      "AUTO_MIGRATE": True, "SECRET_KEY": TEST_SECRET})
    with app.app_context():
        assert db.engine.pool.checkedin() == 0


@pytest.mark.postgres
@pytest.mark.live
def test_replicas_upgrading_at_once_migrate_once():
    with scratch_postgres_database("replicas") as target:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(
                lambda _: engagement("db", "upgrade", DATABASE_URL=target,
                                     ENGAGEMENT_SECRET_KEY=TEST_SECRET), range(4)))
        assert [result.returncode for result in results] == [0, 0, 0, 0], [
            result.stderr for result in results]
        engine = sa.create_engine(target)
        with engine.connect() as connection:
            versions = connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar()
        engine.dispose()
        assert versions == 1


# Every command that reads or writes the database, with arguments it would accept.
DATABASE_COMMANDS = [
    ("tokens", "list"), ("tokens", "create", "--name", "alice", "--role", "moderator"),
    ("people", "export", "ada@example.com"), ("people", "erase", "ada@example.com"),
    ("import", "json", "{export}"), ("export", "{export}"), ("db", "upgrade"),
    ("outbox", "status"), ("counts", "verify"),
]
NOBODY_LISTENS = "postgresql+psycopg://postgres:hunter2@127.0.0.1:5999/none"


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
@pytest.mark.live
def test_a_database_that_does_not_answer_is_one_line(command, tmp_path):
    export = tmp_path / "export.json"
    export.write_text('{"format": "engagement-export", "version": 1, "articles": [{"id": "a"}]}')
    result = engagement(*(part.format(export=export) for part in command),
                        DATABASE_URL=NOBODY_LISTENS, ENGAGEMENT_SECRET_KEY=TEST_SECRET)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: the database does not answer (DATABASE_URL "
        "postgresql+psycopg://postgres:***@127.0.0.1:5999/none): connection failed: connection "
        'to server at "127.0.0.1", port 5999 failed: Connection refused']
    assert "hunter2" not in result.stderr + result.stdout


@pytest.fixture
def unmigrated_postgres():
    with scratch_postgres_database("unmigrated") as url:
        yield url


@pytest.mark.parametrize("database", [
    "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("command", [("tokens", "list"), ("counts", "verify")], ids=" ".join)
@pytest.mark.live
def test_a_database_never_migrated_says_to_migrate_it(request, tmp_path, database, command):
    url = (f"sqlite:///{tmp_path / 'empty.sqlite3'}" if database == "sqlite"
           else request.getfixturevalue("unmigrated_postgres"))
    result = engagement(*command, DATABASE_URL=url, ENGAGEMENT_SECRET_KEY=TEST_SECRET)

    assert result.returncode == 1
    shown = sa.make_url(url).render_as_string(hide_password=True)
    assert result.stderr.strip().splitlines() == [
        f"Error: the database (DATABASE_URL {shown}) is not migrated: run `engagement db "
        "upgrade`"]


@pytest.mark.parametrize(("url", "problem"), [
    ("sqlite:////nowhere/engagement/e.sqlite3", "unable to open database file"),
    ("postgresql://[bad", "failed to resolve host '[bad'"),
])
@pytest.mark.live
def test_a_database_that_cannot_be_reached_is_one_line(url, problem):
    result = engagement("tokens", "list", DATABASE_URL=url, ENGAGEMENT_SECRET_KEY=TEST_SECRET)

    assert result.returncode == 1
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: the database does not answer (DATABASE_URL ")
    assert problem in line
