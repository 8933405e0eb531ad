"""organizations, API keys and assistants

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from clarion.database.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
json_document = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


# sqlite_autoincrement: an id is never handed out twice, even after a delete, so history
# and logs that name an id keep meaning one thing.


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", identifier, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_keys",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("display_prefix", sa.String(24), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_keys_digest")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_api_keys_organization_id"), "api_keys", ["organization_id"])
    op.create_table(
        "assistants",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model", json_document, nullable=True),
        sa.Column("voice", json_document, nullable=True),
        sa.Column("first_message", sa.Text(), nullable=True),
        sa.Column("max_duration_seconds", sa.Integer(), nullable=True),
        sa.Column("voicemail_message", sa.Text(), nullable=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("analysis_plan", json_document, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assistants_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistants")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_assistants_organization_id_created_at_id",
        "assistants",
        ["organization_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_assistants_organization_id_created_at_id", table_name="assistants")
    op.drop_table("assistants")
    op.drop_index(op.f("ix_api_keys_organization_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("organizations")
