"""Copying SQLite's write-ahead log into the database file, off the event loop.

By default SQLite does this inside the commit that takes the log past 1,000 pages: copying
those pages and two fsyncs then land on one unlucky request, and on the event loop every
other request waits too. Measured on a PATCH, that was a large share of its database time,
in stalls (the README's performance section has the figures). Here a thread of its own (SQLite
releases the GIL while it works) runs a PASSIVE checkpoint every 100 ms, which never blocks a
writer. PASSIVE alone can fall behind a steady stream of commits, and the log only starts over
once it is fully copied, so when it passes RESTART_PAGES a RESTART checkpoint holds writers
back for the few pages left and the log begins again from its start.

A RESTART needs the write lock. Taken from this thread, it left the event loop's next write
sleeping in SQLite's busy handler (1, 2, 5, 10 ms ...), and PATCH's p99 latency with it. So a
process whose writes run on its event loop passes ``restart``, which has the loop run the
RESTART between two units of work: it copies and syncs what the PASSIVE passes just before it
left, with nobody waiting for a lock, and holds the loop a fraction as long as a RESTART from
the thread did (the README's performance section has the figures).

Before a RESTART the thread syncs the database file itself, through a descriptor it keeps
open from :meth:`WalCheckpointer.start` until :meth:`WalCheckpointer.close`. SQLite locks
with POSIX locks, and closing any descriptor of a file drops every such lock the process
holds on it: a descriptor opened and closed for each sync left the server looking like no
user of the database at all, and the next process to close its connection (a CLI command,
another worker) deleted the log under the server's feet. So the descriptor is closed only
once the process's connections to the database are (clarion.database.Database.dispose).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable

from clarion.runtime.supervision import LoopStatus

INTERVAL_SECONDS = 0.1
RESTART_PAGES = 8_000  # ~32 MB of log
CHECKPOINTS = "sqlite-checkpoints"
"""The checkpoint thread's name among the background loops (health shows it)."""


class WalCheckpointer:
    """Checkpoints one SQLite database from a thread of its own, so commits never do it."""

    def __init__(
        self,
        path: str,
        interval: float = INTERVAL_SECONDS,
        restart_pages: int = RESTART_PAGES,
        restart: Callable[[], None] | None = None,
        status: LoopStatus | None = None,
    ) -> None:
        self.status = status or LoopStatus(CHECKPOINTS)
        self._path = path
        self._restart = restart
        self._interval = interval
        self._restart_pages = restart_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._database_file: int | None = None

    def start(self) -> None:
        """Open the database file for syncing and start the checkpoint thread."""
        try:
            self._database_file = os.open(self._path, os.O_RDONLY)
        except OSError:
            self._database_file = None  # the RESTART still syncs it, only on the event loop
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it; the database file stays open (see :meth:`close`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        """Let go of the database file: only once no connection of this process uses it."""
        self.stop()
        if self._database_file is not None:
            os.close(self._database_file)
            self._database_file = None

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=1000")
            wait = self._interval
            while not self._stop.wait(wait):
                try:
                    self.checkpoint(connection)
                except sqlite3.Error as error:
                    # A read-only or failing file: logged once per failed pass, backing off.
                    wait = max(self._interval, self.status.failed(error))
                else:
                    self.status.succeeded()
                    wait = self._interval
        finally:
            connection.close()
            self.status.stopped()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        """One pass: a PASSIVE checkpoint and, once the log passes ``restart_pages``, a RESTART."""
        ((_busy, pages, _copied),) = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        if pages < self._restart_pages:
            return
        # The RESTART fdatasyncs the log and the database file; make both nearly clean first,
        # here. A PASSIVE pass syncs the database file only when it reached the log's end,
        # which under steady writes it never does (strace showed the first RESTART's fdatasync
        # of the database file as a long wait; the README's performance section has the
        # figure). A second pass right away then leaves the log only what arrives in the
        # moment before the RESTART runs.
        self._sync_database_file()
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        if self._restart is not None:
            self._restart()
        else:
            restart_log(connection)

    def _sync_database_file(self) -> None:
        # Flushing is per file, not per descriptor, on Linux. Where it fails (Windows wants
        # write access), the RESTART still syncs the file, only on the event loop.
        if self._database_file is None:
            return
        sync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
        try:
            sync(self._database_file)
        except OSError:
            pass


def restart_log(connection: sqlite3.Connection, *, wait: bool = True) -> None:
    """Copy what is left of the log and have the next commit write it from its start.

    Without ``wait``, give up at once if another process is writing or checkpointing (the
    next pass asks again) rather than hold up the event loop in SQLite's busy handler.
    """
    if wait:
        connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        return
    ((timeout,),) = connection.execute("PRAGMA busy_timeout").fetchall()
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
    finally:
        connection.execute(f"PRAGMA busy_timeout={int(timeout)}")
