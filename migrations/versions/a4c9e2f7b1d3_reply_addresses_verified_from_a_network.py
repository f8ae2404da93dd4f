"""Reply-email addresses remember the network their confirmation was pressed from: first_time
moderation trusts the address's regular from there

Revision ID: a4c9e2f7b1d3
Revises: 3b8e61c0d7a2
Create Date: 2026-12-01 15:45:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'a4c9e2f7b1d3'
down_revision = '3b8e61c0d7a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notify_addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_network', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('notify_addresses', schema=None) as batch_op:
        batch_op.drop_column('verified_network')
