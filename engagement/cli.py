"""The `engagement` command for operators: the application's command line (`db`, `tokens`,
`outbox`, `jobs`, ...) without `--app`, quiet unless asked (`-v`), and a bad setting said in
one line that names it instead of a traceback. `flask --app engagement ...` works the same."""

from __future__ import annotations

import logging

import click
from flask.cli import FlaskGroup

from engagement.app import create_app
from engagement.config import ConfigError


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


verbose_option = click.Option(
    ["-v", "--verbose"], is_flag=True, expose_value=False, is_eager=True,
    callback=lambda context, option, verbose: verbose and configure_logging(verbose=True),
    help="Also print what the commands log (migrations, jobs).",
)

cli = FlaskGroup(
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
