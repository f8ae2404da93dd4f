"""An index on comments by age, for What's Hot and the retention job

Revision ID: b7d1e0a2c911
Revises: 8f3f465cf104
Create Date: 2026-12-01 12:30:00

"""
from alembic import op

revision = 'b7d1e0a2c911'
down_revision = '8f3f465cf104'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_comments_recent', 'comments', ['created_at', 'article_id'])


def downgrade():
    op.drop_index('ix_comments_recent', table_name='comments')
