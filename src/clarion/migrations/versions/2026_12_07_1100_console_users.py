"""console users, their sessions and failed sign-ins; who made a version, when a user did

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:00:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_users_organization_id", "users", ["organization_id"])
    op.create_table(
        "console_sessions",
        sa.Column("id", identifier, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", identifier, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("digest", name=op.f("uq_console_sessions_digest")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", identifier, nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sign_in_failures_subject_at", "sign_in_failures", ["subject", "at"])
    op.create_table(
        "sign_in_locks",
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_sign_in_locks")),
    )
    with op.batch_alter_table("assistant_versions") as table:
        table.add_column(sa.Column("user_id", identifier, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_versions") as table:
        table.drop_column("user_id")
    op.drop_table("sign_in_locks")
    op.drop_table("sign_in_failures")
    op.drop_table("console_sessions")
    op.drop_table("users")
