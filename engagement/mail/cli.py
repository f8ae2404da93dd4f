"""`flask --app engagement outbox deliver [--watch]|status`: delivery from a process of its own
(production runs `deliver --watch` as a worker; see worker.py), or once from cron."""

import click
from flask import current_app
from flask.cli import AppGroup

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
        watch_outbox(server)
        return
    done = deliver_outbox(server)
    click.echo(f"sent {done.sent}, retrying {done.retrying}, failed {done.failed}")


@outbox_group.command("status")
def status() -> None:
    """How many messages are queued and how many were refused for good."""
    for name, count in outbox.counts().items():
        click.echo(f"{name}\t{count}")
