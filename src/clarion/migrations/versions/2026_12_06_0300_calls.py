"""calls and the messages said in them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:00:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import JSONDocument, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("assistant_id", identifier, nullable=False),
        sa.Column("assistant_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(50), nullable=True),
        sa.Column("call_type", sa.String(32), nullable=False),
        sa.Column("call_status", sa.String(16), nullable=False),
        sa.Column("source_phone_number_id", identifier, nullable=True),
        sa.Column("source_number", sa.String(32), nullable=True),
        sa.Column("destination_number", sa.String(32), nullable=True),
        sa.Column("configuration", JSONDocument, nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("token_digest", sa.LargeBinary(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(64), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("analysis", JSONDocument, nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("failure_reason", sa.String(32), nullable=True),
        sa.Column("after_call", sa.String(16), nullable=True),
        sa.Column("after_call_claimed_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_calls_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_calls_organization_id_created_at_id", "calls", ["organization_id", "created_at", "id"]
    )
    op.create_index(
        "ix_calls_call_status_lease_expires_at", "calls", ["call_status", "lease_expires_at"]
    )
    op.create_index("ix_calls_after_call", "calls", ["after_call"])
    op.create_index(
        "ix_calls_organization_id_live",
        "calls",
        ["organization_id"],
        postgresql_where=sa.text("call_status <> 'ended'"),
        sqlite_where=sa.text("call_status <> 'ended'"),
    )
    op.create_table(
        "call_messages",
        sa.Column("call_id", identifier, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_messages_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id", "position", name=op.f("pk_call_messages")),
    )


def downgrade() -> None:
    op.drop_table("call_messages")
    op.drop_table("calls")
