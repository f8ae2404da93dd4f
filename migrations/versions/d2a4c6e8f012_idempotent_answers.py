"""Answers of writes that carried an Idempotency-Key

Revision ID: d2a4c6e8f012
Revises: 7d2a1e5c9b40
Create Date: 2026-12-01 13:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd2a4c6e8f012'
down_revision = '7d2a1e5c9b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotent_answers',
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('client', 'key', name=op.f('pk_idempotent_answers')),
    )
    op.create_index(op.f('ix_idempotent_answers_created_at'), 'idempotent_answers',
                    ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_idempotent_answers_created_at'), table_name='idempotent_answers')
    op.drop_table('idempotent_answers')
