"""newsletter subscribers count their signups: every signup writes, known address or new

Revision ID: 3b8e61c0d7a2
Revises: e5f1a7c3d2b8
Create Date: 2026-12-01 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8e61c0d7a2'
down_revision = 'e5f1a7c3d2b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('newsletter_subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signups', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('newsletter_subscribers', schema=None) as batch_op:
        batch_op.drop_column('signups')
