"""ids_never_reused_on_sqlite: bans and newsletter subscribers are deleted, and SQLite gave the
next row the id of the last one deleted (PostgreSQL's sequences never do): a moderator's
stale "Lift ban" then lifted another ban, and the audit log named two bans by one id

Revision ID: b4d2c8a6e1f3
Revises: 9a3d5f7b1c24
Create Date: 2026-12-07 18:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b4d2c8a6e1f3'
down_revision = '9a3d5f7b1c24'
branch_labels = None
depends_on = None

TABLES = ("bans", "newsletter_subscribers")


def upgrade():
    _rebuild(autoincrement=True)


def downgrade():
    _rebuild(autoincrement=False)


def _rebuild(autoincrement: bool):
    # AUTOINCREMENT is SQLite's own, and a table takes it only when it is created.
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass
