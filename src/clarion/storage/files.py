"""Files the server keeps on disk: owner-only, whatever the umask.

The data directory holds the database (prompts, delivery payloads, encrypted webhook secrets)
and the key that decrypts those secrets, so no other local user may list or read it: folders
are created owner-only, files readable and writable by the owner only. What an older version,
a copy or a permissive umask left open to group or others is closed when the server starts.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_AND_OTHERS = 0o077

# Files SQLite keeps beside a database: its write-ahead log, the log's shared-memory index,
# and the rollback journal it uses outside WAL mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> None:
    """Create the folder ``path`` owner-only, or take group and others' access away from it."""
    path.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    keep_private(path)


def keep_private(path: Path) -> None:
    """Take group and others' access away from ``path`` if it exists; the owner's stays."""
    # A companion file may be deleted between the two calls by SQLite closing the database.
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & _GROUP_AND_OTHERS:
            path.chmod(mode & ~_GROUP_AND_OTHERS)


def create_file_once(path: Path, content: bytes) -> None:
    """Create ``path`` with ``content``, readable by the owner only, unless it exists.

    The file appears whole or not at all (a hard link of a finished draft), so when several
    processes start at once exactly one content wins and nobody reads a half-written file.
    """
    private_folder(path.parent)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def prepare_database_file(database: str | None) -> None:
    """Make the SQLite database file ``database`` owner-only before SQLite opens it.

    SQLite creates the write-ahead log and its shared-memory file with the database file's
    mode, so an owner-only database keeps them owner-only too. A missing database is created
    empty (SQLite takes an empty file for an empty database), in an owner-only folder if the
    folder is missing as well; an existing one, and the files SQLite keeps beside it, lose
    group and others' access. An existing folder named by CLARION_DATABASE_URL is the
    operator's and stays as it is (the data directory is kept private by
    clarion.storage.secret_box.load_server_key). In-memory and ``file:`` URI databases are left to
    SQLite.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        keep_private(path)
    for suffix in SQLITE_COMPANIONS:
        keep_private(path.with_name(path.name + suffix))
