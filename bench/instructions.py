"""Machine instructions per request, counted by valgrind: a steady figure on a noisy machine.

Served throughput on a shared virtual machine moves by a fifth from one run to the next, too
much to see a change of a few per cent. This counts the instructions the process executes
for each call of the in-process benchmark (bench/in_process.py: GET one, PATCH one, list
100; SQLite), which is the same from run to run for the same code. The process starts under
callgrind with counting off; it is switched on only for the measured requests.

    .venv/bin/python bench/instructions.py            # needs valgrind: apt-get install valgrind

With ``--checkout DIR`` the same is measured for another checkout of clarion (its ``src``
comes first on the path), to compare two versions of the code in one go.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = ("GET", "PATCH", "list")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="measured per workload")
    parser.add_argument("--checkout", action="append", default=[], help="another checkout")
    args = parser.parse_args()
    checkouts = [HERE.parent, *(Path(path).resolve() for path in args.checkout)]
    print(f"instructions per request, in-process, SQLite, 1,000 assistants, {args.requests}")
    print(f"{'checkout':<40}" + "".join(f"{name:>12}" for name in WORKLOADS))
    for checkout in checkouts:
        counts = [count(checkout, workload, args.requests) for workload in WORKLOADS]
        print(f"{str(checkout)[-40:]:<40}" + "".join(f"{n:>12,}" for n in counts))


def count(checkout: Path, workload: str, requests: int) -> int:
    """Instructions per request of one workload, served in-process by ``checkout``."""
    with tempfile.TemporaryDirectory() as scratch:
        gate = Path(scratch) / "gate"
        out = Path(scratch) / "callgrind.out"
        env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
        target = [sys.executable, __file__, "--serve", str(checkout), workload, str(requests)]
        process = subprocess.Popen(
            [
                _tool("valgrind"),
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                *target,
                str(gate),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(gate.with_suffix(".ready"), process)
        _instrumentation(process.pid, "on")
        gate.with_suffix(".go").touch()
        _wait_for(gate.with_suffix(".done"), process)
        _instrumentation(process.pid, "off")
        gate.with_suffix(".stop").touch()
        process.wait(timeout=600)
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"callgrind wrote no totals for {workload}")
        return int(totals.group(1)) // requests


def _instrumentation(pid: int, state: str) -> None:
    subprocess.run(
        [_tool("callgrind_control"), "-i", state, str(pid)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: apt-get install valgrind")
    return found


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    while not path.exists():
        if process.poll() is not None:
            raise SystemExit("the measured process ended early")
        time.sleep(0.2)


def serve(checkout: str, workload: str, requests: int, gate: Path) -> None:
    """Inside valgrind: seed, warm up, then serve ``requests`` between the gate's signals."""
    import asyncio

    import uvloop

    sys.path.insert(0, str(Path(checkout) / "bench"))
    import in_process
    from harness import seed_assistants

    from clarion.app import create_app
    from clarion.config import Settings

    try:  # the module's home before and after the database package
        from clarion.database.migrate import upgrade
    except ImportError:  # pragma: no cover - an older checkout
        from clarion.migrate import upgrade  # type: ignore[import-not-found,no-redef]
    try:
        from clarion.api.access_log import AccessLog
    except ImportError:  # pragma: no cover - an older checkout
        from clarion.request_log import AccessLog  # type: ignore[import-not-found,no-redef]

    settings = Settings(data_dir=Path(tempfile.mkdtemp()), auto_migrate=False)
    upgrade(settings.database)
    key = seed_assistants(settings, 1000)

    async def run() -> None:
        with open(os.devnull, "wb") as sink:
            app = create_app(settings, access_log=AccessLog(sink, "json"))
            auth = (b"authorization", b"Bearer " + key.encode())
            next_request = {
                "GET": in_process._get(auth, 1000),
                "PATCH": in_process._patch(auth, 1000),
                "list": in_process._list(auth),
            }[workload]
            await in_process._round(app, next_request, 300)  # warm: caches, statements
            gate.with_suffix(".ready").touch()
            while not gate.with_suffix(".go").exists():
                await asyncio.sleep(0.05)
            await in_process._round(app, next_request, requests)
            gate.with_suffix(".done").touch()
            while not gate.with_suffix(".stop").exists():
                await asyncio.sleep(0.05)

    uvloop.run(run())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
