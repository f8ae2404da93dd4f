"""`flask --app engagement comments forget-addresses`: the retention purge, for a daily cron."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from engagement.clock import now
from engagement.comments.services import forget_client_addresses
from engagement.extensions import db

comments = AppGroup("comments", help="Housekeeping of stored comments.")


@comments.command("forget-addresses")
def forget_addresses() -> None:
    """Erase client addresses older than ENGAGEMENT_IP_RETENTION_DAYS."""
    days = current_app.config["IP_RETENTION_DAYS"]
    erased = forget_client_addresses(before=now() - timedelta(days=days))
    db.session.commit()
    click.echo(f"Erased the client address of {erased} comments older than {days} days.")
