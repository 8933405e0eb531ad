"""SQLite's write-ahead log is copied back by a thread of its own, never inside a commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from clarion.config import sqlalchemy_url
from clarion.db import Database
from clarion.migrate import upgrade
from webhook_receiver import eventually


def _log_pages(path: Path) -> tuple[int, int]:
    """(pages in the log, pages of it already copied into the database)."""
    with sqlite3.connect(path) as probe:
        _busy, pages, copied = probe.execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
    return pages, copied


def _copied_all(path: Path) -> bool:
    pages, copied = _log_pages(path)
    return pages == copied


def _write(database: Database, count: int) -> None:
    for number in range(count):
        with database.writing() as session:
            session.execute(
                text("INSERT INTO organizations (name, created_at) VALUES (:n, '2026-11-24')"),
                {"n": f"Clinic {number} " + "x" * 3000},
            )


def test_commits_leave_the_copying_to_the_checkpoint_thread(tmp_path: Path) -> None:
    path = tmp_path / "clarion.db"
    url = sqlalchemy_url(f"sqlite:///{path}")
    upgrade(url)
    database = Database(url)
    database.start_checkpoints(interval=0.05, restart_pages=40)
    try:
        with database.reading() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0

        _write(database, 60)  # each a page or more: well past the restart threshold
        assert _log_pages(path)[0] >= 60  # no commit copied the log back
        eventually(lambda: _copied_all(path), "the log to be copied into the database")

        _write(database, 3)  # after a RESTART the next commits reuse the log from its start
        assert 0 < _log_pages(path)[0] < 40
        eventually(lambda: _copied_all(path), "the copy to catch up")
    finally:
        database.dispose()
