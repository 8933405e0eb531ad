"""indexes for the calls list filtered by assistant, status or ended reason, newest first

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Each filter of GET /v1/call, with the list's order after it, so that a page is read off
# the index newest first and stops at its limit instead of sorting every matching call.
_INDEXES = {
    "ix_calls_list_assistant": ["organization_id", "assistant_id", "created_at", "id"],
    "ix_calls_list_status": ["organization_id", "call_status", "created_at", "id"],
    "ix_calls_list_ended_reason": ["organization_id", "ended_reason", "created_at", "id"],
    "ix_calls_list_assistant_status": [
        "organization_id",
        "assistant_id",
        "call_status",
        "created_at",
        "id",
    ],
    "ix_calls_list_assistant_ended_reason": [
        "organization_id",
        "assistant_id",
        "ended_reason",
        "created_at",
        "id",
    ],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "calls", columns)


def downgrade() -> None:
    for name in reversed(_INDEXES):
        op.drop_index(name, table_name="calls")
