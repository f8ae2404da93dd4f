"""unsubscribe links made before they expired get the default lifetime from their creation

Revision ID: 6a7b3c9d2e15
Revises: 5c2d8e4f1a67
Create Date: 2026-12-01 16:35:00.000000

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a7b3c9d2e15'
down_revision = '5c2d8e4f1a67'
branch_labels = None
depends_on = None

# ENGAGEMENT_UNSUBSCRIBE_TOKEN_TTL_DAYS's default: a migration does not read the settings.
LIFETIME = timedelta(days=365)
TABLES = ("newsletter_tokens", "notify_tokens")


def upgrade():
    connection = op.get_bind()
    for name in TABLES:
        tokens = sa.table(name, sa.column("token_hash", sa.String),
                          sa.column("purpose", sa.String),
                          sa.column("created_at", sa.DateTime(timezone=True)),
                          sa.column("expires_at", sa.DateTime(timezone=True)))
        found = connection.execute(
            sa.select(tokens.c.token_hash, tokens.c.created_at)
            .where(tokens.c.purpose == "unsubscribe", tokens.c.expires_at.is_(None))).all()
        for token_hash, created_at in found:
            connection.execute(
                tokens.update().where(tokens.c.token_hash == token_hash)
                .values(expires_at=created_at + LIFETIME))


def downgrade():
    pass  # an expiry date is harmless to the older code, which reads it for confirmations
