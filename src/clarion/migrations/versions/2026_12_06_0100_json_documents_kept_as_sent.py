"""JSON documents kept as sent on PostgreSQL: json instead of jsonb

jsonb keeps numbers as numeric values, so a float such as 1e16 came back as the integer
10000000000000000 and -0.0 as 0: not the document the client sent. json keeps the text the
server wrote, which orjson writes as the client's values. Nothing queries inside these
documents, so jsonb's operators and indexes were never used. SQLite keeps text already.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 01:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DOCUMENTS = {
    "assistants": ("model", "voice", "analysis_plan"),
    "assistant_versions": ("configuration", "changed_fields"),
}


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")


def _retype(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in DOCUMENTS.items():
        for column in columns:
            op.alter_column(
                table,
                column,
                type_=sa.JSON() if kind == "json" else JSONB(),
                postgresql_using=f"{column}::{kind}",
            )
