"""article versions never repeat: 64-bit, and at least the time in microseconds when bumped

Revision ID: 5c2d8e4f1a67
Revises: 3e1f7a2b9c40
Create Date: 2026-12-01 16:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c2d8e4f1a67'
down_revision = '3e1f7a2b9c40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), type_=sa.BigInteger(),
                              existing_nullable=False, existing_server_default='1')


def downgrade():
    # Versions past 2**31 (every one bumped since the upgrade) start again from 1: the
    # answers cached under them are no longer asked for, but may be again (clear the cache).
    op.execute("UPDATE articles SET version = 1 WHERE version > 2147483647")
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.BigInteger(), type_=sa.Integer(),
                              existing_nullable=False, existing_server_default='1')
