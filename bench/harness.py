"""What the benchmarks need: a bench database and its assistants, a free port, waiting for a
server, the ceiling, wrk runs, and what the call benchmarks share (a process run for a
while, an organization, JSON posted, client processes' answers, percentiles)."""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, insert, text

from clarion.assistants.models import AssistantRow, AssistantVersionRow
from clarion.auth import service as auth_service
from clarion.config import Settings, sqlalchemy_url
from clarion.database import Database


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


def wait_ready(url: str, headers: dict[str, str] | None = None) -> None:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    for _ in range(150):
        try:
            with urllib.request.urlopen(request, timeout=1):  # noqa: S310 - our own loopback server
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def start_ceiling(port: int) -> subprocess.Popen[bytes]:
    """The bare ASGI app of ceiling.py under uvicorn, as the ceiling or as a receiver."""
    return start_bare_app("ceiling:app", port)


def start_bare_app(
    app: str, port: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """An ASGI app of this folder under uvicorn, started as the ceiling is."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).resolve().parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


MODEL = {
    "provider": "openai",
    "model": "gpt-4o",
    "temperature": 0.3,
    "messages": [{"role": "system", "content": "You remind patients of appointments."}],
}


def seed_assistants(settings: Settings, size: int) -> str:
    """An organization, its key, and ``size`` assistants with one version record each."""
    database = Database(settings.database)
    with database.unit(write=True) as unit:
        organization_id, key = auth_service.create_organization(unit, "Bench Clinic")
    now = dt.datetime.now(dt.UTC)
    batch = 5000
    for start in range(0, size, batch):
        rows = []
        for number in range(start, min(size, start + batch)):
            created = now - dt.timedelta(seconds=size - number)
            rows.append(
                {
                    "organization_id": organization_id,
                    "name": f"Assistant {number}",
                    "model": MODEL,
                    "voice": {"provider": "11labs", "voiceId": "rachel"},
                    "first_message": "Hello, this is Northside Clinic calling.",
                    "max_duration_seconds": 600,
                    "webhook_url": "https://hooks.example.org/clarion",
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                }
            )
        with database.unit(write=True) as unit:
            session = unit.session
            ids = session.scalars(insert(AssistantRow).returning(AssistantRow.id), rows).all()
            session.execute(
                insert(AssistantVersionRow),
                [
                    {
                        "organization_id": organization_id,
                        "assistant_id": assistant_id,
                        "version": 1,
                        "action": "created",
                        "configuration": {"name": row["name"]},
                        "changed_fields": ["name"],
                        "created_at": row["created_at"],
                    }
                    for assistant_id, row in zip(ids, rows, strict=True)
                ],
            )
    database.dispose()
    return key.api_key


@dataclass
class Run:
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def wrk_scripts(workdir: Path, api_key: str, size: int) -> dict[str, Path]:
    """wrk scripts for GET one, PATCH one (a new first_message and model each time) and list 100.

    Each wrk thread runs its own Lua state, and each starts with the same random seed: left
    alone, the threads would send the same ids and, for PATCH, the same bodies, and every
    second PATCH would change nothing. So threads are numbered, seeded apart, and number
    their bodies.
    """
    auth = f'wrk.headers["Authorization"] = "Bearer {api_key}"\n'
    threads = (
        "local threads = 0\n"
        "function setup(thread)\n"
        '  thread:set("number", threads)\n'
        "  threads = threads + 1\n"
        "end\n"
        "function init(args)\n"
        "  math.randomseed(7919 * number + 1)\n"
        "end\n"
    )
    scripts = {
        "get": auth
        + threads
        + (
            f"request = function()\n"
            f"  return wrk.format('GET', '/v1/assistant/' .. math.random(1, {size}))\n"
            f"end\n"
        ),
        "patch": auth
        + threads
        + (
            'wrk.headers["Content-Type"] = "application/json"\n'
            "local counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            "  local call = number .. '-' .. counter\n"
            "  local body = '{\"first_message\": \"Hello, call ' .. call .. '\", '\n"
            '    .. \'"model": {"provider": "openai", "model": "gpt-4o", \'\n'
            "    .. '\"temperature\": ' .. (counter % 20) / 10 .. '}}'\n"
            f"  return wrk.format('PATCH', '/v1/assistant/' .. math.random(1, {size}), nil, body)\n"
            "end\n"
        ),
        "list": auth + "wrk.path = '/v1/assistant?limit=100'\n",
    }
    paths = {}
    for name, source in scripts.items():
        path = workdir / f"{name}.lua"
        path.write_text(source)
        paths[name] = path
    return paths


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def run_wrk(url: str, script: Path | None, seconds: int, connections: int, label: str) -> Run:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latencies = {
        percentile: float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        for percentile, value, unit in _LATENCY.findall(output)
    }
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Run(label, rate, latencies["50"], latencies["99"], int(errors.group(1)) if errors else 0)


Pairs = dict[str, list[tuple[Run, Run]]]
"""Per workload, each round's (workload run, the ceiling run just before it)."""


def alternate_with_ceiling(
    ceiling_url: str,
    server_url: str,
    workloads: dict[str, Path],
    rounds: int,
    seconds: int,
    connections: int,
) -> Pairs:
    """Run each workload right after a run of the ceiling, the whole sequence ``rounds``
    times, so that the machine's drift hits both sides of every pair."""
    pairs: Pairs = {label: [] for label in workloads}
    for _round in range(rounds):
        for label, script in workloads.items():
            ceiling = run_wrk(ceiling_url, None, seconds, connections, "ceiling")
            pairs[label].append((run_wrk(server_url, script, seconds, connections, label), ceiling))
    return pairs


def ratios(pairs: list[tuple[Run, Run]]) -> list[float]:
    """Each round's requests per second as a share of its ceiling run's."""
    return [run.requests_per_second / ceiling.requests_per_second for run, ceiling in pairs]


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return kilobytes / 1024


@contextmanager
def running_process(
    command: list[str], env: dict[str, str] | None = None, output: Any = subprocess.DEVNULL
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends, then stop it."""
    process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


def create_organization(env: dict[str, str]) -> str:
    """A new organization, made with the CLI; its API key."""
    created = subprocess.run(
        [sys.executable, "-m", "clarion", "org", "create", "Bench Clinic"],
        env=env,
        capture_output=True,
        check=True,
    )
    api_key: str = orjson.loads(created.stdout)["api_key"]
    return api_key


def post_json(url: str, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as JSON to the bench server; its JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=orjson.dumps(body),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        answer: dict[str, Any] = orjson.loads(response.read())
        return answer


def receive_from(
    process: multiprocessing.process.BaseProcess, end: Connection, timeout: float
) -> Any:
    """What a client process sends back, failing the run if it died or fell silent."""
    deadline = time.monotonic() + timeout
    while not end.poll(0.5):
        if not process.is_alive():
            raise SystemExit(f"a client process died (exit code {process.exitcode})")
        if time.monotonic() > deadline:
            raise SystemExit(f"a client process did not answer within {timeout:g} s")
    return end.recv()


def percentile(ordered: list[float], share: float) -> float:
    """The value at ``share`` of the sorted ``ordered`` (nan when empty)."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan
