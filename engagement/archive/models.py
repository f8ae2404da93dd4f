"""Where an imported comment came from: its source and the id it had there, unique together,
so that importing the same file again finds every comment already here and adds nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db


class ImportedComment(db.Model):
    __tablename__ = "imported_comments"
    __table_args__ = (
        sa.UniqueConstraint("source", "source_id", name="uq_imported_comments_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "wordpress", "disqus", or "engagement" for a comment of another instance's JSON export.
    source: Mapped[str] = mapped_column(sa.String(16))
    source_id: Mapped[str] = mapped_column(sa.String(100))
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )


class ExportOrigin(db.Model):
    """What names this database in its exports: a random id its first export makes, so that
    a database reading exports of several tells their comments apart (each numbers its own
    from 1), while reading one twice, or into another database, still adds nothing."""

    __tablename__ = "export_origin"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(sa.String(32))
