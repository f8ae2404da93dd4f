"""`flask --app engagement db upgrade` gives operators the schema the models declare."""

import importlib
import importlib.util
import os
import pkgutil
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import engagement
from engagement import create_app
from engagement.extensions import db
from tests.conftest import TEST_SECRET, scratch_postgres_database


def import_every_model() -> None:
    """Each feature's models.py fills db.metadata when imported."""
    for feature in pkgutil.iter_modules(engagement.__path__):
        if feature.ispkg and importlib.util.find_spec(f"engagement.{feature.name}.models"):
            importlib.import_module(f"engagement.{feature.name}.models")


import_every_model()


def upgrade_with_the_cli(database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "ENGAGEMENT_SECRET_KEY": TEST_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "engagement", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=120,
    )


def schema_differences(database_url: str) -> list:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


@pytest.mark.live
def test_upgrade_on_an_empty_sqlite_file_builds_the_declared_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"

    result = upgrade_with_the_cli(url)

    assert result.returncode == 0, result.stderr
    assert schema_differences(url) == []


@pytest.fixture
def empty_postgres_database(postgres_url):  # skipped, like the tests using it, without one
    with scratch_postgres_database("empty") as url:
        yield url


@pytest.mark.postgres
@pytest.mark.live
def test_upgrade_on_an_empty_postgres_database_builds_the_declared_schema(empty_postgres_database):
    result = upgrade_with_the_cli(empty_postgres_database)

    assert result.returncode == 0, result.stderr
    assert schema_differences(empty_postgres_database) == []


def test_migrations_go_down_and_up_again(tmp_path):
    from flask_migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'cycle.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        db.engine.dispose()
    assert schema_differences(url) == []


def test_embedded_default_creates_its_schema_on_first_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'first-start.sqlite3'}"

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": True})

    response = app.test_client().post(
        "/api/v1/articles/first/comments",
        json={"author_name": "A", "author_email": "a@example.com", "body": "works"})
    assert response.status_code == 201
    with app.app_context():
        db.engine.dispose()
    assert schema_differences(url) == []


def subscriber_with_links(connection, made: str, links: dict[str, str]) -> None:
    """Subscriber 1, confirmed, and its links (token hash: purpose), as rows of an older
    schema: written in SQL, since today's models may not fit it."""
    connection.execute(sa.text(
        "INSERT INTO newsletter_subscribers (id, email, status, created_at, updated_at,"
        " consent_version, signed_up_at, signups) VALUES (1, 'ada@example.com',"
        " 'confirmed', :made, :made, '1', :made, 1)"), {"made": made})
    for token, purpose in links.items():
        connection.execute(sa.text(
            "INSERT INTO newsletter_tokens (token_hash, subscriber_id, purpose, created_at)"
            " VALUES (:token, 1, :purpose, :made)"),
            {"token": token, "purpose": purpose, "made": made})


def test_unsubscribe_links_made_before_they_expired_expire_a_year_after_they_were_made(tmp_path):
    """Links from before ENGAGEMENT_UNSUBSCRIBE_TOKEN_TTL_DAYS had no expiry: the upgrade gives
    them the default lifetime from their creation, and leaves confirmation links alone."""
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'links.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    made = "2025-03-01 12:00:00.000000"
    with app.app_context():
        upgrade(revision="5c2d8e4f1a67")
        with db.engine.begin() as connection:
            subscriber_with_links(connection, made, {"a" * 64: "unsubscribe", "b" * 64: "confirm"})
        upgrade()
        with db.engine.connect() as connection:
            expiry = dict(connection.execute(sa.text(
                "SELECT purpose, expires_at FROM newsletter_tokens")).all())
        db.engine.dispose()
    assert expiry == {"unsubscribe": "2026-03-01 12:00:00.000000", "confirm": None}


def test_tables_rebuilt_by_an_upgrade_keep_the_rows_that_reference_them(tmp_path):
    """Making SQLite stop reusing ids rebuilds the subscribers' table, which tokens and mail
    reference with ON DELETE CASCADE: the upgrade must not take them with it, and leaves the
    pooled connections enforcing foreign keys again."""
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    made = "2026-11-01 12:00:00.000000"
    with app.app_context():
        upgrade(revision="9a3d5f7b1c24")
        with db.engine.begin() as connection:
            subscriber_with_links(connection, made, {"a" * 64: "unsubscribe"})
        upgrade()
        with db.engine.begin() as connection:
            kept = connection.scalar(sa.text("SELECT count(*) FROM newsletter_tokens"))
            connection.execute(sa.text("DELETE FROM newsletter_subscribers"))
            cascaded = connection.scalar(sa.text("SELECT count(*) FROM newsletter_tokens"))
        db.engine.dispose()
    assert (kept, cascaded) == (1, 0)
    assert schema_differences(url) == []
