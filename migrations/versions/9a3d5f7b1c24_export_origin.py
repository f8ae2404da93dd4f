"""export_origin: the random id that names this database in its exports, so that comments of
two databases' exports are not taken for one another for sharing ids

Revision ID: 9a3d5f7b1c24
Revises: 8c1e4a7d2b90
Create Date: 2026-12-07 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a3d5f7b1c24'
down_revision = '8c1e4a7d2b90'
branch_labels = None
depends_on = None


def upgrade():
    # No row yet: the database's first export makes it.
    op.create_table('export_origin',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_export_origin_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_origin'))
    )


def downgrade():
    op.drop_table('export_origin')
