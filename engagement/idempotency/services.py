"""The rules of idempotent writes: what a key answers, recording the write in its own
transaction, and the answer after it. Functions flush; the caller commits (record_answer
commits its own statement)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.database import (
    delete_where,
    on_conflict_insert,
    run_on_driver,
    single_statement,
)
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


class KeyInUse(Exception):
    """Another request recorded this key's write, within the day, since this one looked."""


# Built once, on the table, and run on the driver's cursor (database.run_on_driver): every
# keyed write runs them, and building them, or SQLAlchemy's execution of them, cost more CPU
# than running them.
_answers = IdempotentAnswer.__table__
# (An UPDATE's WHERE may not take its columns' names for parameters.)
_THIS_KEY = sa.and_(_answers.c.client == sa.bindparam("of_client"),
                    _answers.c.key == sa.bindparam("of_key"))
_EARLIER = sa.select(_answers.c.request_hash, _answers.c.status, _answers.c.body,
                     _answers.c.content_type).where(
    _THIS_KEY, _answers.c.created_at > sa.bindparam("expired"))
_ANSWER = sa.update(_answers).where(_THIS_KEY).values(
    status=sa.bindparam("status"), body=sa.bindparam("body"),
    content_type=sa.bindparam("content_type"))


@functools.cache
def _write_of_key(dialect: str) -> sa.Insert:
    """The key's row, new, or in place of one older than a day (its rowcount: 0 when a row
    within the day holds the key), per database kind."""
    insert = on_conflict_insert(dialect)(_answers).values(
        client=sa.bindparam("client"), key=sa.bindparam("key"),
        request_hash=sa.bindparam("request_hash"), created_at=sa.bindparam("created_at"))
    return insert.on_conflict_do_update(
        index_elements=_answers.primary_key.columns,
        set_={"request_hash": insert.excluded.request_hash,
              "created_at": insert.excluded.created_at,
              "status": None, "body": None, "content_type": None},
        where=_answers.c.created_at <= sa.bindparam("expired"),
    ).execution_options(preserve_rowcount=True)


def seen(connection: sa.Connection, client: str, key: str, fingerprint: str, *,
         now: datetime) -> Seen | None:
    """The earlier request with this key from this client within the last day, if any."""
    rows = run_on_driver(connection, _EARLIER,
                         {"of_client": client, "of_key": key, "expired": now - KEPT}).rows
    if not rows:
        return None
    request_hash, status, body, content_type = rows[0]
    return Seen(request_hash == fingerprint, status, body, content_type)


def record_write(connection: sa.Connection, client: str, key: str, fingerprint: str, *,
                 now: datetime) -> None:
    """In the write's own transaction: this key's write happened. A concurrent request with
    the same key waits here for the first to end (the primary key), and if it committed,
    raises KeyInUse: its write is rolled back with it. One statement: the row of a key older
    than a day is taken over."""
    if run_on_driver(connection, _write_of_key(connection.dialect.name), {
        "client": client, "key": key, "request_hash": fingerprint, "created_at": now,
        "expired": now - KEPT,
    }).rowcount != 1:
        raise KeyInUse()


def record_answer(client: str, key: str, status: int, body: str,
                  content_type: str | None) -> None:
    """The answer the write got, for the retries (for a day: then `purge_answers` drops it).
    Committed at once, on a connection of its own: on PostgreSQL the UPDATE is its own
    transaction, without a BEGIN and a COMMIT to wait for."""
    with single_statement(db.engine) as connection:
        run_on_driver(connection, _ANSWER, {"of_client": client, "of_key": key,
                                            "status": status, "body": body,
                                            "content_type": content_type})
        connection.commit()


def purge_answers(now: datetime) -> int:
    """Drop the answers older than a day, which no retry gets any more."""
    return delete_where(db.session, IdempotentAnswer, IdempotentAnswer.created_at <= now - KEPT)
