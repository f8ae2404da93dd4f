"""a version of its own for an article's thread: shares no longer outdate thread pages, nor
votes the article and its counts

Revision ID: 7f4b2d9e6a31
Revises: 6a7b3c9d2e15
Create Date: 2026-12-07 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7f4b2d9e6a31'
down_revision = '6a7b3c9d2e15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_version', sa.BigInteger(), nullable=False,
                                      server_default='1'))
    # Where it was: the thread's cached pages stay good across the upgrade.
    op.execute("UPDATE articles SET thread_version = version")


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('thread_version')
