"""provider credentials: an organization's language-model API keys, encrypted

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 00:30:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "provider_credentials",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("api_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("api_key_hint", sa.String(4), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_provider_credentials_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_provider_credentials_organization_id_created_at_id",
        "provider_credentials",
        ["organization_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("provider_credentials")
