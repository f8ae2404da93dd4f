"""The `engagement` command for operators: the application's command line (`db`, `tokens`,
`outbox`, `jobs`, ...) without `--app`, quiet unless asked (`-v`), and a bad setting or a
database that fails said in one line instead of a traceback. `flask --app engagement ...` runs
the same commands (with Flask's tracebacks)."""

from __future__ import annotations

import logging
import os

import click
import sqlalchemy as sa
from flask.cli import FlaskGroup

from engagement.app import create_app
from engagement.config import ConfigError, database_url


class ServingOnly(logging.Filter):
    """Drops warnings that concern only a serving process (such as a per-process secret key)
    from a command that serves nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "serving_only", False)


def configure_logging(verbose: bool) -> None:
    # Before the application exists: create_app keeps a logging setup it finds, and so does
    # Alembic's env.py, so their INFO lines (migrations) show only with -v.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        handler.addFilter(ServingOnly())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler],
                        force=True)


def load_app():
    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def database_problem(error: sa.exc.DBAPIError) -> str:
    """One line for an operator: what is wrong with the database, where (DATABASE_URL without
    its password), and the driver's first line."""
    where, password = _configured_database()
    if _not_migrated(error.orig):
        return f"the database ({where}) is not migrated: run `engagement db upgrade`"
    said = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    if password:
        said = said.replace(password, "***")
    if error.statement is None:  # failed while connecting: no statement was sent
        return f"the database does not answer ({where}): {said}"
    return f"the database refused the command ({where}): {said}"


def _configured_database() -> tuple[str, str | None]:
    """Where the commands' database is, said without its password; and that password."""
    text = os.environ.get("DATABASE_URL")
    if not text:
        return "the embedded SQLite file", None
    try:
        url = sa.make_url(database_url(text))
    except (ConfigError, sa.exc.ArgumentError, ValueError):
        return "DATABASE_URL (unreadable)", None
    return f"DATABASE_URL {url.render_as_string(hide_password=True)}", url.password


def _not_migrated(orig: BaseException) -> bool:
    """A table or column the code reads is missing: SQLite's "no such table/column", or
    PostgreSQL's undefined_table (42P01) and undefined_column (42703)."""
    if getattr(orig, "sqlstate", None) in ("42P01", "42703"):
        return True
    return str(orig).startswith(("no such table", "no such column"))


class EngagementGroup(FlaskGroup):
    """FlaskGroup whose commands, every one, say a database that fails in one line (exit 1)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except sa.exc.DBAPIError as error:
            raise click.ClickException(database_problem(error)) from None


verbose_option = click.Option(
    ["-v", "--verbose"], is_flag=True, expose_value=False, is_eager=True,
    callback=lambda context, option, verbose: verbose and configure_logging(verbose=True),
    help="Also print what the commands log (migrations, jobs).",
)

cli = EngagementGroup(
    name="engagement",
    help="Operate the engagement service (settings come from ENGAGEMENT_* and DATABASE_URL).",
    create_app=load_app,
    params=[verbose_option],
    add_version_option=False,
    set_debug_flag=False,
)
# The application is this one: Flask's --app and --debug choose nothing here.
cli.params = [param for param in cli.params if param.name not in ("app", "debug")]


def main() -> None:
    configure_logging(verbose=False)
    cli.main(prog_name="engagement")
