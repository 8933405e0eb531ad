"""an assistant's transcriber

A JSON document like ``voice``: json, not jsonb, on PostgreSQL (see revision 0006), so it is
kept as the client sent it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:00:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import JSONDocument

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assistants") as table:
        table.add_column(sa.Column("transcriber", JSONDocument, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistants") as table:
        table.drop_column("transcriber")
