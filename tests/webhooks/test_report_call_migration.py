"""Migration 0017 gives the reports already queued the call they are about, from their payload;
a test report's sample call (id 0) is no call."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from clarion.config import sqlalchemy_url
from clarion.database.migrate import upgrade


def test_queued_reports_are_given_their_call(tmp_path: Path) -> None:
    url = sqlalchemy_url(f"sqlite:///{tmp_path / 'before.db'}")
    upgrade(url, "0016")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organizations (id, name, created_at) VALUES (1, 'Clinic', :at)"),
            {"at": "2026-12-07 10:00:00.000000"},
        )
        for event_id, body in [(1, b'{"id": 41, "transcript": "AI: Hello"}'), (2, b'{"id": 0}')]:
            connection.execute(
                text(
                    "INSERT INTO webhook_events (id, organization_id, assistant_id, event_type,"
                    " webhook_id, body, created_at) VALUES (:id, 1, 3, 'end-of-call-report',"
                    " :webhook_id, :body, '2026-12-07 10:00:00.000000')"
                ),
                {"id": event_id, "webhook_id": f"evt_{event_id}", "body": body},
            )

    upgrade(url)

    with engine.connect() as connection:
        found = connection.execute(text("SELECT id, call_id FROM webhook_events ORDER BY id"))
        assert [tuple(row) for row in found] == [(1, 41), (2, None)]
    engine.dispose()
