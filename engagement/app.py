"""The application factory: configuration, extensions, HTTP conventions, blueprints, errors and
the command line, each wired by one small step."""

from __future__ import annotations

import fcntl
import functools
import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from engagement import config
from engagement.answers import register_answer_cache
from engagement.database import configure_postgresql, configure_sqlite
from engagement.errors import register_error_handlers
from engagement.extensions import api, cors, db, migrate
from engagement.fast_reads import register_fast_reads
from engagement.fast_shares import register_fast_shares
from engagement.http import PathsAsSent, register_http_conventions
from engagement.idempotency.views import register_idempotency
from engagement.limits import register_limits
from engagement.mail.delivery import register_batch_writer, register_mail
from engagement.metrics import register_metrics

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


class Service(Flask):
    url_map_class = PathsAsSent  # from the first route on


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Service("engagement", instance_relative_config=True)
    register_logging()  # first: the settings' warnings are log lines like any other
    config.load_config(app, overrides)
    register_extensions(app)
    register_metrics(app)
    register_http_conventions(app)
    register_answer_cache(app)
    register_limits(app)
    register_mail(app)
    register_batch_writers(app)
    register_idempotency()
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_fast_shares(app, cors_options(app.config["CORS_ORIGINS"]))
    register_fast_reads(app, cors_options(app.config["CORS_ORIGINS"]))
    migrate_if_embedded(app)
    return app


# When and which process, as gunicorn's own lines say them: workers interleave in one log.
LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"


def register_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.init_app(app)
    cors.init_app(app, resources={PUBLIC_API: cors_options(app.config["CORS_ORIGINS"])})
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            configure_postgresql(db.engine, app.config["DATABASE_STATEMENT_TIMEOUT"])


# The public API answers the widget on the sites' own origins; the admin API never does.
PUBLIC_API = r"/api/v1/(?!admin/).*"


def cors_options(origins: list[str]) -> dict[str, Any]:
    return {
        "origins": origins,
        "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": ["Content-Type", "X-Edit-Token", "If-None-Match", "Idempotency-Key"],
        "expose_headers": ["ETag", "Retry-After", "Idempotent-Replayed", "X-RateLimit-Limit",
                           "X-RateLimit-Remaining", "X-RateLimit-Reset"],
        "supports_credentials": False,  # the widget sets no cookies and sends none
        "max_age": 600,
    }


def register_batch_writers(app: Flask) -> None:
    """Reply emails and moderator digests are batched: each feature writes its batch's email
    when it is due, from the comments as they are then."""
    from engagement.alerts.services import DIGESTS, AlertPolicy, write_digest
    from engagement.notifications.services import BATCHES, NotifyPolicy, write_replies

    register_batch_writer(app, BATCHES, functools.partial(
        write_replies, policy=NotifyPolicy.from_config(app.config)))
    register_batch_writer(app, DIGESTS, functools.partial(
        write_digest, policy=AlertPolicy.from_config(app.config)))


def register_blueprints(app: Flask) -> None:
    # Routes are imported here only: the rest of the package never depends on them.
    from engagement import health
    from engagement.admin.routes import blp as admin
    from engagement.articles.admin_routes import blp as admin_articles
    from engagement.articles.routes import blp as articles
    from engagement.comments.routes import blp as comments
    from engagement.console.routes import bp as console
    from engagement.moderation.admin_routes import blp as moderation
    from engagement.moderation.ban_routes import blp as bans
    from engagement.moderation.routes import blp as flags
    from engagement.newsletter import pages as newsletter_pages
    from engagement.newsletter.admin_routes import blp as newsletter_admin
    from engagement.newsletter.routes import blp as newsletter
    from engagement.notifications import pages as notification_pages
    from engagement.pages.routes import bp as pages
    from engagement.people.admin_routes import blp as people
    from engagement.shares.routes import blp as shares
    from engagement.trending.routes import blp as trending
    from engagement.votes.routes import blp as votes
    from engagement.widget.routes import bp as widget

    app.register_blueprint(health.bp)
    api.register_blueprint(articles)
    api.register_blueprint(comments)
    api.register_blueprint(flags)
    api.register_blueprint(admin)
    api.register_blueprint(moderation)
    api.register_blueprint(admin_articles)
    api.register_blueprint(bans)
    api.register_blueprint(shares)
    api.register_blueprint(votes)
    api.register_blueprint(trending)
    api.register_blueprint(newsletter)
    api.register_blueprint(newsletter_admin)
    api.register_blueprint(people)
    app.register_blueprint(newsletter_pages.bp)
    app.register_blueprint(notification_pages.bp)
    app.register_blueprint(widget)
    app.register_blueprint(pages)
    app.register_blueprint(console)


def register_commands(app: Flask) -> None:
    from engagement.admin.cli import tokens
    from engagement.archive.cli import export_command, import_group
    from engagement.articles.cli import counts
    from engagement.comments.cli import comments
    from engagement.jobs.cli import jobs
    from engagement.mail.cli import outbox_group
    from engagement.people.cli import people

    app.cli.add_command(tokens)
    app.cli.add_command(counts)
    app.cli.add_command(import_group)
    app.cli.add_command(export_command)
    app.cli.add_command(comments)
    app.cli.add_command(outbox_group)
    app.cli.add_command(jobs)
    app.cli.add_command(people)


def migrate_if_embedded(app: Flask) -> None:
    """The embedded default creates and migrates its own schema on start; a lock file keeps
    several workers starting at once from migrating together."""
    if not app.config["AUTO_MIGRATE"]:
        return
    from flask_migrate import upgrade

    os.makedirs(app.instance_path, exist_ok=True)
    with open(os.path.join(app.instance_path, ".migrate.lock"), "w") as lock, app.app_context():
        fcntl.flock(lock, fcntl.LOCK_EX)
        upgrade(directory=MIGRATIONS_DIR)
        # With gunicorn --preload this runs in the master: workers must not inherit its
        # SQLite connection (SQLite's documented corruption risk), so none is kept.
        db.engine.dispose()
