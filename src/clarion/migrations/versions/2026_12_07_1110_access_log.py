"""the access log: who read which call's conversation, kept append-only by the database

No foreign keys: an entry outlives the call it names (a deleted call's reads still happened),
and nothing may delete an entry, a cascade included.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:10:00
"""

import sqlalchemy as sa
from alembic import op

from clarion.database.schema import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY = "the access log is append-only"


def upgrade() -> None:
    op.create_table(
        "call_reads",
        sa.Column("id", identifier, nullable=False),
        sa.Column("organization_id", identifier, nullable=False),
        sa.Column("call_id", identifier, nullable=False),
        sa.Column("actor_type", sa.String(8), nullable=False),
        sa.Column("actor_id", identifier, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_reads")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_call_reads_organization_id_at_id", "call_reads", ["organization_id", "at", "id"]
    )
    op.create_index(
        "ix_call_reads_organization_id_call_id_at",
        "call_reads",
        ["organization_id", "call_id", "at"],
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER call_reads_no_{event.lower()} BEFORE {event} ON call_reads "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION call_reads_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER call_reads_no_change BEFORE UPDATE OR DELETE ON call_reads "
            "FOR EACH ROW EXECUTE FUNCTION call_reads_append_only()"
        )
        op.execute(
            "CREATE TRIGGER call_reads_no_truncate BEFORE TRUNCATE ON call_reads "
            "FOR EACH STATEMENT EXECUTE FUNCTION call_reads_append_only()"
        )


def downgrade() -> None:
    op.drop_table("call_reads")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION call_reads_append_only()")
