"""Secret tokens handed to people (edit tokens, admin tokens, emailed links): random, and
kept at rest only as their SHA-256, so a copy of the database cannot act as anyone."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa

from engagement.errors import TokenExpired, UnknownToken
from engagement.extensions import db


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # surrogatepass: a token from a header or JSON is text we did not choose; hash, never fail.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def link_token(model: type[db.Model], token: str, purpose: str, *, now: datetime,
               expired: str):
    """The stored row of an emailed link's token (a `model` with token_hash, purpose and
    expires_at): UnknownToken when none is for this purpose, TokenExpired (saying `expired`)
    once it has expired."""
    found = db.session.scalar(sa.select(model).where(
        model.token_hash == hash_token(token), model.purpose == purpose))
    if found is None:
        raise UnknownToken()
    if found.expires_at is not None and found.expires_at <= now:
        raise TokenExpired(expired)
    return found
