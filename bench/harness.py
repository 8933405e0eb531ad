"""What both benchmarks need: a bench database, a free port, waiting for a server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

from clarion.config import sqlalchemy_url


def prepare_database(workdir: Path, postgres: str | None) -> str:
    """A SQLite file in ``workdir``, or a fresh ``clarion_bench`` database on ``postgres``."""
    if postgres is None:
        return f"sqlite:///{workdir / 'clarion.db'}"
    server = sqlalchemy_url(postgres)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "clarion_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "clarion_bench"'))
    admin.dispose()
    return server.set(database="clarion_bench").render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(url: str) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback server
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def start_ceiling(port: int) -> subprocess.Popen[bytes]:
    """The bare ASGI app of ceiling.py under uvicorn, as the ceiling or as a receiver."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ceiling:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).resolve().parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
