"""The floor under the assistant API's figures: how close to the ceiling a handler can come at
all, here, when it does nothing but its SQLite work.

    .venv/bin/python bench/floor.py            # 1,000 assistants; --size 100000

It seeds a database as bench/assistant_api.py does and serves bench/floor_app.py, a bare ASGI
app under the same ASGI server as the ceiling that runs only the SELECT of a GET, or only the
write transaction of a PATCH (five statements): committed per request ("PATCH one"), and with
the PATCHes of one turn of the event loop committed together ("PATCH grouped"), as clarion
commits them (clarion/group_commit.py). It alternates 32-connection wrk runs with runs of the
ceiling and prints, as the median over the rounds, requests per second and the ratio to the
ceiling run just before. Whatever clarion does on top (authentication, validation, rendering,
the access line) can only take its own figures below these.

"GET minimal" and "PATCH minimal" serve bench/minimal_app.py instead: the same SQLite work
plus the least that any handler meeting the API's standards does on top, written out in one
function per call. They bound what any implementation could reach here, clarion's structure
aside.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from statistics import median

from harness import (
    Pairs,
    alternate_with_ceiling,
    free_port,
    prepare_database,
    ratios,
    seed_assistants,
    start_bare_app,
    start_ceiling,
    wait_ready,
    wrk_scripts,
)

from clarion.config import Settings
from clarion.database.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="number of assistants")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="times each pair of runs is made")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
        measure(Path(workdir), args)


def measure(workdir: Path, args: argparse.Namespace) -> None:
    database_url = prepare_database(workdir, None)
    settings = Settings(data_dir=workdir, database_url=database_url)
    upgrade(settings.database)
    api_key = seed_assistants(settings, args.size)
    scripts = wrk_scripts(workdir, api_key, args.size)

    ceiling_port = free_port()
    ceiling = start_ceiling(ceiling_port)
    ceiling_url = f"http://127.0.0.1:{ceiling_port}"
    results: Pairs = {}
    try:
        wait_ready(ceiling_url)
        for app, group_commit, workloads in (
            ("floor_app:app", "0", {"GET one": scripts["get"], "PATCH one": scripts["patch"]}),
            ("floor_app:app", "1", {"PATCH grouped": scripts["patch"]}),
            (
                "minimal_app:app",
                "1",
                {"GET minimal": scripts["get"], "PATCH minimal": scripts["patch"]},
            ),
        ):
            env = {
                **os.environ,
                "FLOOR_DATABASE": str(workdir / "clarion.db"),
                "FLOOR_GROUP_COMMIT": group_commit,
            }
            floor_port = free_port()
            floor = start_bare_app(app, floor_port, env)
            try:
                floor_url = f"http://127.0.0.1:{floor_port}"
                wait_ready(f"{floor_url}/v1/assistant/1", {"Authorization": f"Bearer {api_key}"})
                results |= alternate_with_ceiling(
                    ceiling_url, floor_url, workloads, args.rounds, args.duration, args.connections
                )
            finally:
                floor.terminate()
                floor.wait(timeout=30)
    finally:
        ceiling.terminate()
        ceiling.wait(timeout=30)

    print(
        f"\nthe floor: {args.size:,} assistants, sqlite, 1 process, {args.connections} "
        f"connections, {args.duration}s per run, median of {args.rounds} rounds"
    )
    print(f"{'workload':<14}{'req/s':>10}{'ceiling':>10}{'ratio':>8}   ratio of each round")
    for label, pairs in results.items():
        shares = ratios(pairs)
        print(
            f"{label:<14}{median(run.requests_per_second for run, _ in pairs):>10,.0f}"
            f"{median(ceiling.requests_per_second for _, ceiling in pairs):>10,.0f}"
            f"{median(shares):>8.3f}   " + " ".join(f"{share:.3f}" for share in shares)
        )


if __name__ == "__main__":
    main()
