"""Tokens: made, listed and revoked from the command line, checked on every admin request.
The audit log: one entry per change. Functions flush; the route or command commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engagement.admin.models import AdminToken, AuditEntry, Role
from engagement.database import delete_where
from engagement.errors import InvalidInput
from engagement.extensions import db
from engagement.pagination import newest_first
from engagement.tokens import hash_token, new_token

TOKEN_PREFIX = "eng_"


def create_token(name: str, role: Role, *, actor: str, now: datetime) -> str:
    """A new token for `name`; only its hash is kept, so this is the one time it is seen."""
    longest = AdminToken.__table__.c.name.type.length
    if not name.strip() or len(name) > longest:
        # Refused here, not by the column: PostgreSQL would refuse the INSERT with an error,
        # SQLite would store any length.
        raise InvalidInput.field("name", f"Give a name of 1 to {longest} characters.")
    if db.session.scalar(sa.select(AdminToken.id).where(AdminToken.name == name)):
        raise InvalidInput.field("name", f"A token named {name!r} exists; revoke it first.")
    token = new_token(TOKEN_PREFIX)
    db.session.add(AdminToken(name=name, role=role, token_hash=hash_token(token), created_at=now))
    audit(actor, "token.create", f"token:{name}", {"role": role.value}, now=now)
    db.session.flush()
    return token


def list_tokens() -> list[AdminToken]:
    return db.session.scalars(sa.select(AdminToken).order_by(AdminToken.name)).all()


def revoke_token(name: str, *, actor: str, now: datetime) -> bool:
    revoked = db.session.execute(
        sa.delete(AdminToken).where(AdminToken.name == name)).rowcount > 0
    if revoked:
        audit(actor, "token.revoke", f"token:{name}", now=now)
    db.session.flush()
    return revoked


# Who a failed sign-in was: no token holder, so its client address says where it came from.
UNKNOWN_ACTOR = "(unknown)"
FAILED_SIGN_IN = "auth.failure"


def audit_failed_sign_in(client: str, *, now: datetime) -> None:
    """A request with a missing or wrong token; the token itself is never kept (it may be a
    real one mistyped)."""
    audit(UNKNOWN_ACTOR, FAILED_SIGN_IN, "admin", {"client": client}, now=now)


def forget_failed_sign_in_addresses(before: datetime) -> int:
    """Erase the client address of failed sign-ins audited before a moment (the retention of
    addresses, shorter than the audit's own): the entry stays, without who tried."""
    return db.session.execute(
        sa.update(AuditEntry)
        .where(AuditEntry.action == FAILED_SIGN_IN, AuditEntry.at <= before,
               AuditEntry.details["client"].as_string().is_not(None))
        .values(details={})
        .execution_options(synchronize_session=False)
    ).rowcount


def authenticate(token: str, *, now: datetime) -> AdminToken | None:
    """The token's holder, or None for an unknown or revoked token."""
    holder = db.session.scalar(
        sa.select(AdminToken).where(AdminToken.token_hash == hash_token(token))
    )
    if holder is not None:
        record_use(holder, now=now)
    return holder


def record_use(holder: AdminToken, *, now: datetime) -> None:
    holder.last_used_at = now


def audit(actor: str, action: str, target: str, details: dict[str, Any] | None = None, *,
          now: datetime) -> None:
    db.session.add(AuditEntry(at=now, actor=actor, action=action, target=target,
                              details=details or {}))


def audit_each(actor: str, action: str, targets: list[str], details: dict[str, Any], *,
               now: datetime) -> None:
    """One entry per target of one action (a bulk decision), in one statement: each comment's
    history then shows it, found by its own target."""
    if targets:
        db.session.execute(sa.insert(AuditEntry), [
            {"at": now, "actor": actor, "action": action, "target": target, "details": details}
            for target in targets])


def audit_page(limit: int, cursor: list | None, *, actor: str | None = None,
               action: str | None = None, target: str | None = None) -> dict[str, Any]:
    """The audit log, newest first; `action` names one action or, without a dot, its family
    (`comment` is every `comment.*`)."""
    query = sa.select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action and "." in action:
        query = query.where(AuditEntry.action == action)
    elif action:
        query = query.where(AuditEntry.action.startswith(f"{action}.", autoescape=True))
    if target:
        query = query.where(AuditEntry.target == target)
    return newest_first(AuditEntry.id).page(query, limit, cursor)


def purge_audit(before: datetime) -> int:
    """Drop audit entries older than the retention period."""
    return delete_where(db.session, AuditEntry, AuditEntry.at < before)
