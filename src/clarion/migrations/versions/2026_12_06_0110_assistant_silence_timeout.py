"""an assistant's silence timeout

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assistants") as table:
        table.add_column(sa.Column("silence_timeout_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistants") as table:
        table.drop_column("silence_timeout_seconds")
