"""which console user created an API key, so that disabling the user revokes it

Keys already made are nobody's: which user made one was never kept, so disabling a user
revokes only the keys they create from now on.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.add_column(sa.Column("created_by_user_id", identifier, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.drop_column("created_by_user_id")
