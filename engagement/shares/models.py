"""Share tallies (the counts readers see), claims (who was counted when) and the log of counted
shares (what is hot lately)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db


class ShareTally(db.Model):
    """The running count of one article on one network, incremented in place."""

    __tablename__ = "share_tallies"

    article_id: Mapped[str] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class ShareClaim(db.Model):
    """When a client (a keyed hash of its address and user agent) was last counted for an
    article and network: the row that makes a repeat inside the window count nothing."""

    __tablename__ = "share_claims"

    article_id: Mapped[str] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    client_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(index=True)


class Share(db.Model):
    """One counted share, kept with its time for the trending window."""

    __tablename__ = "shares"
    __table_args__ = (sa.Index("ix_shares_recent", "created_at", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[str] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]
