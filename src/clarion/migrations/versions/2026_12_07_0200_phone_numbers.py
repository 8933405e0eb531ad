"""phone numbers: an organization's numbers at its carrier, the auth token encrypted

``assistant_id`` has no foreign key, as a call's has none: the service checks the assistant
is the organization's when the link is made, and a deleted assistant, which a restore brings
back under its id, leaves the link as it was.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:00:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "phone_numbers",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("assistant_id", identifier, nullable=True),
        sa.Column("twilio_account_sid", sa.String(34), nullable=False),
        sa.Column("twilio_auth_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("twilio_auth_token_hint", sa.String(4), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_phone_numbers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sa.UniqueConstraint(
            "organization_id", "number", name=op.f("uq_phone_numbers_organization_id_number")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_phone_numbers_number", "phone_numbers", ["number"])
    op.create_index(
        "ix_phone_numbers_organization_id_created_at_id",
        "phone_numbers",
        ["organization_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("phone_numbers")
