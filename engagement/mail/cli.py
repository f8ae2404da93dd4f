"""`flask --app engagement outbox deliver [--watch]|status|retry-failed`: delivery from a
process of its own (production runs `deliver --watch` as a worker; see worker.py), or once
from cron; what waits; and failed messages queued again once what refused them is fixed."""

import logging
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from engagement.app import LOG_FORMAT
from engagement.clock import now
from engagement.extensions import db
from engagement.mail import outbox
from engagement.mail.delivery import EXTENSION, deliver_outbox
from engagement.mail.worker import watch as watch_outbox

outbox_group = AppGroup("outbox", help="Deliver and inspect the mail outbox.")


@outbox_group.command("deliver")
@click.option("--watch", is_flag=True,
              help="Keep delivering as messages come, until SIGTERM (SIGHUP: start again).")
def deliver(watch: bool) -> None:
    """Deliver the messages that are due now (retries included)."""
    server = current_app.extensions[EXTENSION].server
    if watch:
        # A worker's log is how an operator sees it work, for days: its rounds and starts are
        # INFO, which the quiet `engagement` command would drop, and its lines say when.
        logging.getLogger("engagement.mail").setLevel(logging.INFO)
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
        watch_outbox(server)
        return
    done = deliver_outbox(server)
    click.echo(f"sent {done.sent}, retrying {done.retrying}, failed {done.failed}")
    if not done.sent and (done.retrying or done.failed):
        raise SystemExit(1)  # cron mails its owner: everything tried was refused


def _moment(context, parameter, text: str | None) -> datetime | None:
    """An ISO 8601 moment as the service prints them (2024-05-01T12:00:00Z), an offset or
    none (UTC), or a day (2024-05-01)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a moment such as 2024-05-01T12:00:00Z "
                                 "or 2024-05-01") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@outbox_group.command("retry-failed")
@click.option("--since", callback=_moment, default=None,
              help="Only messages queued since this moment (2024-05-01T12:00:00Z, another "
                   "offset, or UTC when none is given; or a day, 2024-05-01); all when not "
                   "given.")
def retry_failed(since: datetime | None) -> None:
    """Queue again the messages refused for good, once what refused them is fixed."""
    requeued = outbox.retry_failed(now=now(), since=since)
    db.session.commit()
    click.echo(f"queued again {requeued}")


@outbox_group.command("status")
def status() -> None:
    """How many messages are queued and how many were refused for good."""
    for name, count in outbox.counts().items():
        click.echo(f"{name}\t{count}")
