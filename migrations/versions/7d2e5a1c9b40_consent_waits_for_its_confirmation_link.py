"""the consent a confirmation link carries, applied only when it is used

Revision ID: 7d2e5a1c9b40
Revises: b7d1e0a2c911
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2e5a1c9b40'
down_revision = 'b7d1e0a2c911'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('newsletter_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('consent_version', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('signed_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('client_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('newsletter_tokens', schema=None) as batch_op:
        batch_op.drop_column('client_hash')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('signed_up_at')
        batch_op.drop_column('consent_version')
        batch_op.drop_column('source')
        batch_op.drop_column('name')
