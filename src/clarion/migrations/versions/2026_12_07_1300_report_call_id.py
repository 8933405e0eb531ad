"""which call a report is about, so a call's deliveries are found without reading payloads

Reports already queued are given theirs from their payload's ``id``; a test report's sample
call (id 0) is no call.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 13:00:00
"""

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("webhook_events") as table:
        table.add_column(sa.Column("call_id", identifier, nullable=True))
    events = sa.table(
        "webhook_events",
        sa.column("id", identifier),
        sa.column("body", sa.LargeBinary()),
        sa.column("call_id", identifier),
    )
    connection = op.get_bind()
    last = 0
    while True:  # a batch at a time: an outbox can be large
        batch = connection.execute(
            sa.select(events.c.id, events.c.body)
            .where(events.c.id > last)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        for event_id, body in batch:
            call_id = orjson.loads(body).get("id")
            if isinstance(call_id, int) and call_id > 0:
                connection.execute(
                    events.update().where(events.c.id == event_id).values(call_id=call_id)
                )
        last = batch[-1][0]
    op.create_index(
        "ix_webhook_events_organization_id_call_id",
        "webhook_events",
        ["organization_id", "call_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_organization_id_call_id", "webhook_events")
    with op.batch_alter_table("webhook_events") as table:
        table.drop_column("call_id")
