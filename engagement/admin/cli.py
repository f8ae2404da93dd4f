"""`flask --app engagement tokens create|list|revoke`: admin tokens are made here only."""

import click
from flask.cli import AppGroup

from engagement.admin import services
from engagement.admin.models import Role
from engagement.clock import now
from engagement.errors import InvalidInput
from engagement.extensions import db

tokens = AppGroup("tokens", help="Make, list and revoke admin API tokens.")
# Who made or revoked a token, in the audit log.
ACTOR = "command line"


@tokens.command("create")
@click.option("--name", required=True, help="Who holds the token (unique).")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
def create(name: str, role: str) -> None:
    """Make a token; it is printed alone on the last line, and never shown again."""
    try:
        token = services.create_token(name, Role(role), actor=ACTOR, now=now())
    except InvalidInput as error:
        raise click.ClickException(error.errors["json"]["name"][0]) from None
    db.session.commit()
    click.echo(f"Token for {name} ({role}); store it now, it is not kept:", err=True)
    click.echo(token)


@tokens.command("list")
def list_() -> None:
    """Name, role, creation and last use of every token (never the tokens)."""
    for token in services.list_tokens():
        last = token.last_used_at.isoformat() if token.last_used_at else "never used"
        click.echo(f"{token.name}\t{token.role.value}\t{token.created_at.isoformat()}\t{last}")


@tokens.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke a token at once."""
    if not services.revoke_token(name, actor=ACTOR, now=now()):
        raise click.ClickException(f"No token named {name!r}.")
    db.session.commit()
    click.echo(f"Revoked {name}.")
