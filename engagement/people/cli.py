"""`engagement people export EMAIL` and `people erase EMAIL [--with-comments]`: a person's
request to see or remove their data, answered from the command line."""

from __future__ import annotations

import json

import click
import marshmallow as ma
from flask.cli import AppGroup

from engagement.clock import now
from engagement.extensions import db
from engagement.people.schemas import PersonArgs
from engagement.people.services import erase_person, export_person

people = AppGroup("people", help="A person's data: export it, or erase it.")


class BadAddress(click.ClickException):
    exit_code = 2  # a usage error, said in one line


def _address(email: str, doing: str) -> str:
    """EMAIL read as the HTTP endpoints read it (PersonArgs), which refuse what is not an
    address with 422: never blank, since imported comments may have no email and a blank
    address would be theirs."""
    if not email.strip():
        raise BadAddress(f"EMAIL is blank: give the address whose data to {doing}.")
    try:
        return PersonArgs().load({"email": email.strip()})["email"]
    except ma.ValidationError:
        raise BadAddress(f"EMAIL {email!r} is not an email address: give the address whose "
                         f"data to {doing}.") from None


@people.command("export")
@click.argument("email")
def export(email: str) -> None:
    """Print every record of EMAIL as JSON (written to the audit log without the address)."""
    person = export_person(_address(email, "export"), actor="command line", now=now())
    db.session.commit()
    click.echo(json.dumps(person, indent=2, ensure_ascii=False))


@people.command("erase")
@click.argument("email")
@click.option("--with-comments", is_flag=True,
              help="Delete the text of their comments too (else kept, under \"Deleted\").")
def erase(email: str, with_comments: bool) -> None:
    """Remove EMAIL everywhere (written to the audit log without the address)."""
    erased = erase_person(_address(email, "erase"), with_comments=with_comments,
                          actor="command line", now=now())
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in erased.items()))
