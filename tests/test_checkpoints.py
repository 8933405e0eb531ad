"""SQLite's write-ahead log is copied back by a thread of its own, never inside a commit."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from clarion.config import sqlalchemy_url
from clarion.database import Database
from clarion.database.checkpoints import WalCheckpointer
from clarion.database.migrate import upgrade
from clarion.runtime.supervision import backoff
from webhook_receiver import eventually


def _log_pages(path: Path) -> tuple[int, int]:
    """(pages in the log, pages of it already copied into the database)."""
    with sqlite3.connect(path) as probe:
        while True:
            busy, pages, copied = probe.execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
            if not busy:  # busy: the checkpoint thread holds the lock and the counts read -1
                return pages, copied
            time.sleep(0.005)


def _copied_all(path: Path) -> bool:
    pages, copied = _log_pages(path)
    return pages == copied


def _write(database: Database, count: int) -> None:
    for number in range(count):
        with database.unit(write=True) as unit:
            session = unit.session
            session.execute(
                text("INSERT INTO organizations (name, created_at) VALUES (:n, '2026-11-24')"),
                {"n": f"Clinic {number} " + "x" * 3000},
            )


@pytest.fixture
def event_loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.mark.parametrize("on_event_loop", [False, True], ids=["thread", "event-loop"])
def test_commits_leave_the_copying_to_the_checkpoint_thread(
    tmp_path: Path, on_event_loop: bool, event_loop_thread: asyncio.AbstractEventLoop
) -> None:
    path = tmp_path / "clarion.db"
    url = sqlalchemy_url(f"sqlite:///{path}")
    upgrade(url)
    database = Database(url)
    options = {"interval": 0.05, "restart_pages": 40}
    if on_event_loop:  # started inside a running loop, the RESTART is handed to that loop

        async def start() -> None:
            database.start_checkpoints(**options)

        asyncio.run_coroutine_threadsafe(start(), event_loop_thread).result()
    else:
        database.start_checkpoints(**options)
    try:
        with database.unit() as unit:
            session = unit.session
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0

        _write(database, 60)  # each a page or more: well past the restart threshold
        assert _log_pages(path)[0] >= 60  # no commit copied the log back
        eventually(lambda: _copied_all(path), "the log to be copied into the database")
        time.sleep(0.3)  # the RESTART follows the copy by a moment

        _write(database, 3)  # after a RESTART the next commits reuse the log from its start
        assert 0 < _log_pages(path)[0] < 40
        eventually(lambda: _copied_all(path), "the copy to catch up")
    finally:
        database.dispose()


def _in_another_process(path: Path, sql: str) -> int:
    """Open the database in a process of its own, as a CLI command or another server does,
    run one query, close it."""
    script = (
        "import sqlite3, sys\n"
        "connection = sqlite3.connect(sys.argv[1])\n"
        "print(connection.execute(sys.argv[2]).fetchone()[0])\n"
        "connection.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), sql], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_other_processes_closing_the_database_leave_the_servers_log_in_place(
    tmp_path: Path,
) -> None:
    # SQLite's locks are POSIX locks: a process that closes any descriptor of the database
    # file loses all of them. Had the checkpoint thread done so, the next process to close
    # its connection would find itself the last user, delete the log and its index, and the
    # server's later commits would go to a deleted file.
    path = tmp_path / "clarion.db"
    url = sqlalchemy_url(f"sqlite:///{path}")
    upgrade(url)
    database = Database(url)
    database.start_checkpoints(interval=0.05, restart_pages=40)
    try:
        _write(database, 60)  # past the restart threshold: the thread syncs and restarts
        eventually(lambda: _copied_all(path), "the log to be copied into the database")
        time.sleep(0.3)

        assert _in_another_process(path, "SELECT count(*) FROM organizations") == 60
        assert path.with_name("clarion.db-wal").exists()
        assert path.with_name("clarion.db-shm").exists()

        _write(database, 1)
        assert _in_another_process(path, "SELECT count(*) FROM organizations") == 61
    finally:
        database.dispose()
    assert _in_another_process(path, "SELECT count(*) FROM organizations") == 61


def _read_only_error(tmp_path: Path) -> sqlite3.OperationalError:
    """What SQLite says when a checkpoint cannot write the database file."""
    path = tmp_path / "read-only.db"
    sqlite3.connect(path).close()
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        reader.execute("CREATE TABLE t (x)")
    except sqlite3.OperationalError as error:
        return error
    finally:
        reader.close()
    raise AssertionError("a read-only connection wrote")


def test_a_failing_checkpoint_is_logged_once_per_pass_and_backs_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = _read_only_error(tmp_path)
    path = tmp_path / "clarion.db"
    sqlite3.connect(path).close()

    def refuse(self: WalCheckpointer, _connection: sqlite3.Connection) -> None:
        raise refusal

    monkeypatch.setattr(WalCheckpointer, "checkpoint", refuse)
    checkpointer = WalCheckpointer(str(path), interval=0.01)
    with caplog.at_level(logging.INFO, logger="clarion"):
        checkpointer.start()
        eventually(lambda: checkpointer.status.failures >= 4, "four failed passes")
        checkpointer.close()

    assert checkpointer.status.state == "stopped"
    lines = [record for record in caplog.records if record.name == "clarion.runtime"]
    # One line per failed pass, without a traceback; the wait between passes doubles.
    assert len(lines) == checkpointer.status.failures
    assert all(record.exc_info is None for record in lines)
    assert "readonly" in lines[0].getMessage()
    assert checkpointer.status.last_error is not None
    assert [backoff(n) for n in (1, 2, 3, 9, 30)] == [0.1, 0.2, 0.4, 10.0, 10.0]
