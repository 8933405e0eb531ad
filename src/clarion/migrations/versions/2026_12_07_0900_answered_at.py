"""when a phone call was answered, so that a stream that never opens after it is seen

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.add_column(sa.Column("answered_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.drop_column("answered_at")
