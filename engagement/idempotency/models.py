"""The answers of writes that carried an Idempotency-Key, kept for a day per client."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db


class IdempotentAnswer(db.Model):
    __tablename__ = "idempotent_answers"

    # Who sent it (a keyed hash of the client address) and the key they chose.
    client: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    # A hash of the method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Written in the transaction of the write, the answer just after it: a row without an
    # answer is a write that was made, whose answer the process did not live to record.
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(sa.Text)
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
