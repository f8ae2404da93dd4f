"""article versions and counters kept at write time

Revision ID: b7e2d4a91c05
Revises: d2a4c6e8f012
Create Date: 2026-12-01 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4a91c05'
down_revision = 'd2a4c6e8f012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('comment_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('share_count', sa.Integer(), server_default='0', nullable=False))
    # The counters start from a recount of what is stored.
    op.execute(
        "UPDATE articles SET comment_count = (SELECT count(*) FROM comments"
        " WHERE comments.article_id = articles.id AND comments.status = 'approved'"
        " AND comments.deleted_at IS NULL),"
        " share_count = (SELECT coalesce(sum(share_tallies.count), 0) FROM share_tallies"
        " WHERE share_tallies.article_id = articles.id)"
    )


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('share_count')
        batch_op.drop_column('comment_count')
        batch_op.drop_column('version')
