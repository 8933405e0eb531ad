"""lighter version records: one index fewer, and no AUTOINCREMENT on SQLite

Every PATCH writes one version record. Its index on (organization_id, assistant_id) repeated
what the unique (assistant_id, version) index already finds (every query names both), and
SQLite's AUTOINCREMENT rewrote the sqlite_sequence table on each insert: together two of the
five pages a PATCH wrote to the write-ahead log. Version record ids are never shown, so a
reused id (after an organization's deletion) means nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:10:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from clarion.database.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
json_document = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
OLD_INDEX = "ix_assistant_versions_organization_id_assistant_id"


def upgrade() -> None:
    op.drop_index(OLD_INDEX, table_name="assistant_versions")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_versions(autoincrement=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_versions(autoincrement=True)
    op.create_index(OLD_INDEX, "assistant_versions", ["organization_id", "assistant_id"])


def _rebuild_versions(*, autoincrement: bool) -> None:
    # SQLite cannot add or drop AUTOINCREMENT in place: copy into a new table.
    op.create_table(
        "assistant_versions_rebuilt",
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
            name="fk_assistant_versions_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_versions"),
        sa.UniqueConstraint(
            "assistant_id", "version", name="uq_assistant_versions_assistant_id_version"
        ),
        sqlite_autoincrement=autoincrement,
    )
    op.execute("INSERT INTO assistant_versions_rebuilt SELECT * FROM assistant_versions")
    op.drop_table("assistant_versions")
    op.rename_table("assistant_versions_rebuilt", "assistant_versions")
