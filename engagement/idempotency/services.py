"""The rules of idempotent writes: what a key answers, recording the write in its own
transaction, and the answer after it. Functions flush; the caller commits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.extensions import db
from engagement.idempotency.models import IdempotentAnswer

KEPT = timedelta(hours=24)


@dataclass(frozen=True)
class Seen:
    """An earlier request with the same key: whether it was the same request, and its answer
    (None while it was not recorded)."""

    same_request: bool
    status: int | None
    body: str | None
    content_type: str | None


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def seen(client: str, key: str, fingerprint: str, *, now: datetime) -> Seen | None:
    """The earlier request with this key from this client within the last day, if any."""
    row = db.session.get(IdempotentAnswer, (client, key))
    if row is None or row.created_at <= now - KEPT:
        return None
    return Seen(row.request_hash == fingerprint, row.status, row.body, row.content_type)


def record_write(client: str, key: str, fingerprint: str, *, now: datetime) -> None:
    """In the write's own transaction: this key's write happened. A concurrent request with
    the same key fails here (the primary key), and its write is rolled back with it."""
    db.session.execute(sa.delete(IdempotentAnswer).where(
        IdempotentAnswer.client == client, IdempotentAnswer.key == key,
        IdempotentAnswer.created_at <= now - KEPT))
    db.session.execute(sa.insert(IdempotentAnswer).values(
        client=client, key=key, request_hash=fingerprint, created_at=now))


def record_answer(client: str, key: str, status: int, body: str,
                  content_type: str | None) -> None:
    """The answer the write got, for the retries (for a day: then `purge_answers` drops it)."""
    db.session.execute(
        sa.update(IdempotentAnswer)
        .where(IdempotentAnswer.client == client, IdempotentAnswer.key == key)
        .values(status=status, body=body, content_type=content_type))


def purge_answers(now: datetime) -> int:
    """Drop the answers older than a day, which no retry gets any more."""
    return db.session.execute(
        sa.delete(IdempotentAnswer).where(IdempotentAnswer.created_at <= now - KEPT)
        .execution_options(synchronize_session=False)
    ).rowcount
