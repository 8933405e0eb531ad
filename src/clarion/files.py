"""Writing key files safely."""

from __future__ import annotations

import os
from pathlib import Path


def create_file_once(path: Path, content: bytes) -> None:
    """Create ``path`` with ``content``, readable by the owner only, unless it exists.

    The file appears whole or not at all (a hard link of a finished draft), so when several
    processes start at once exactly one content wins and nobody reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
