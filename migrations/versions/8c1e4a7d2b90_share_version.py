"""shares get a version of their own instead of the thread: the thread's pages depend on
`version` again, as the release before 7f4b2d9e6a31 bumped it, so that no write of a worker of
that release goes unseen during a rolling upgrade

Revision ID: 8c1e4a7d2b90
Revises: 7f4b2d9e6a31
Create Date: 2026-12-07 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c1e4a7d2b90'
down_revision = '7f4b2d9e6a31'
branch_labels = None
depends_on = None


def upgrade():
    # Every write bumps `version` but a share, which bumps `share_version`; the article's
    # answers read both. A worker of an older release bumps `version` for every write: seen.
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('thread_version')
        batch_op.add_column(sa.Column('share_version', sa.BigInteger(), nullable=False,
                                      server_default='1'))


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('share_version')
        batch_op.add_column(sa.Column('thread_version', sa.BigInteger(), nullable=False,
                                      server_default='1'))
    op.execute("UPDATE articles SET thread_version = version")
