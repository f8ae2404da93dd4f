"""imported comments: each imported comment's source and source id

Revision ID: 7d2a1e5c9b40
Revises: 7d2e5a1c9b40
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2a1e5c9b40'
down_revision = '7d2e5a1c9b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('imported_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_imported_comments_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_comments')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_imported_comments_comment_id')),
    sa.UniqueConstraint('source', 'source_id', name='uq_imported_comments_source')
    )


def downgrade():
    op.drop_table('imported_comments')
