"""`engagement people export EMAIL` and `people erase EMAIL [--with-comments]`: a person's
request to see or remove their data, answered from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from engagement.clock import now
from engagement.extensions import db
from engagement.people.services import erase_person, export_person

people = AppGroup("people", help="A person's data: export it, or erase it.")


@people.command("export")
@click.argument("email")
def export(email: str) -> None:
    """Print every record of EMAIL as JSON."""
    click.echo(json.dumps(export_person(email), indent=2, ensure_ascii=False))


@people.command("erase")
@click.argument("email")
@click.option("--with-comments", is_flag=True,
              help="Delete the text of their comments too (else kept, under \"Deleted\").")
def erase(email: str, with_comments: bool) -> None:
    """Remove EMAIL everywhere (written to the audit log without the address)."""
    erased = erase_person(email, with_comments=with_comments, actor="command line", now=now())
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in erased.items()))
