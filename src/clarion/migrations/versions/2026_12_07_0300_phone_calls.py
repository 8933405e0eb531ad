"""a phone call's number, Twilio call and failure detail

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# As the calls table declares its ids: 64 bits, an INTEGER on SQLite.
identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.add_column(sa.Column("phone_number_id", identifier, nullable=True))
        table.add_column(sa.Column("twilio_call_sid", sa.String(64), nullable=True))
        table.add_column(sa.Column("failure_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.drop_column("failure_detail")
        table.drop_column("twilio_call_sid")
        table.drop_column("phone_number_id")
