"""Comments remember that a moderator approved them: flags need a larger threshold to hide
them again

Revision ID: e5f1a7c3d2b8
Revises: 10ac51e933b5
Create Date: 2026-12-01 15:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'e5f1a7c3d2b8'
down_revision = '10ac51e933b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by_moderator', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('approved_by_moderator')
