"""assistant versions and idempotent requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from clarion.database.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
json_document = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite does it in place, keeping the table's AUTOINCREMENT.
    op.add_column(
        "assistants", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.create_table(
        "assistant_versions",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("assistant_id", identifier, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("configuration", json_document, nullable=False),
        sa.Column("changed_fields", json_document, nullable=False),
        sa.Column("webhook_secret_change", sa.String(8), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("api_key_id", identifier, nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assistant_versions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_versions")),
        sa.UniqueConstraint(
            "assistant_id", "version", name=op.f("uq_assistant_versions_assistant_id_version")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_assistant_versions_organization_id_assistant_id",
        "assistant_versions",
        ["organization_id", "assistant_id"],
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        sa.Column("response_etag", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_idempotent_requests_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_requests")),
        sa.UniqueConstraint(
            "organization_id",
            "operation",
            "key",
            name=op.f("uq_idempotent_requests_organization_id_operation_key"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_idempotent_requests_created_at"), "idempotent_requests", ["created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotent_requests_created_at"), table_name="idempotent_requests")
    op.drop_table("idempotent_requests")
    op.drop_index(
        "ix_assistant_versions_organization_id_assistant_id", table_name="assistant_versions"
    )
    op.drop_table("assistant_versions")
    with op.batch_alter_table("assistants", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("version")
