"""`flask --app engagement outbox deliver|status`: delivery from a process of its own, for
deployments that prefer a worker (or cron) to the service's background thread."""

import time

import click
from flask import current_app
from flask.cli import AppGroup

from engagement.clock import now
from engagement.extensions import db
from engagement.mail import outbox
from engagement.mail.delivery import EXTENSION, LONGEST_NAP, deliver_outbox

outbox_group = AppGroup("outbox", help="Deliver and inspect the mail outbox.")


@outbox_group.command("deliver")
@click.option("--watch", is_flag=True,
              help="Keep delivering as messages come due, until interrupted.")
def deliver(watch: bool) -> None:
    """Deliver the messages that are due now (retries included)."""
    server = current_app.extensions[EXTENSION].server
    while True:
        done = deliver_outbox(server)
        if not watch:
            click.echo(f"sent {done.sent}, retrying {done.retrying}, failed {done.failed}")
            return
        due = outbox.next_attempt_at()
        db.session.rollback()
        nap = LONGEST_NAP if due is None else (due - now()).total_seconds()
        time.sleep(min(max(nap, 0.5), LONGEST_NAP))


@outbox_group.command("status")
def status() -> None:
    """How many messages are queued and how many were refused for good."""
    for name, count in outbox.counts().items():
        click.echo(f"{name}\t{count}")
