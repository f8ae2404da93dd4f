"""thread totals kept at write time: each article's visible top-level comments, and an index
of its deleted top-level comments (the placeholders a thread may keep)

Revision ID: 3e1f7a2b9c40
Revises: a4c9e2f7b1d3
Create Date: 2026-12-01 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e1f7a2b9c40'
down_revision = 'a4c9e2f7b1d3'
branch_labels = None
depends_on = None

DELETED_TOPS = sa.text("thread_id IS NULL AND deleted_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('top_level_count', sa.Integer(), server_default='0', nullable=False))
    # The counter starts from a recount of what is stored.
    op.execute(
        "UPDATE articles SET top_level_count = (SELECT count(*) FROM comments"
        " WHERE comments.article_id = articles.id AND comments.thread_id IS NULL"
        " AND comments.status = 'approved' AND comments.deleted_at IS NULL)"
    )
    op.create_index('ix_comments_deleted_tops', 'comments', ['article_id'],
                    sqlite_where=DELETED_TOPS, postgresql_where=DELETED_TOPS)


def downgrade():
    op.drop_index('ix_comments_deleted_tops', table_name='comments')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('top_level_count')
