"""Benchmark of the assistant API against the bare-ASGI ceiling, driven by wrk.

    .venv/bin/python bench/assistant_api.py                 # SQLite, the embedded default
    .venv/bin/python bench/assistant_api.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

For N = 1,000 and 100,000 assistants it starts `clarion serve` (one process) and the ceiling
app under the same ASGI server, then alternates wrk runs (32 connections) so that drift hits
both: ceiling, GET one, ceiling, PATCH one, ceiling, list 100; that sequence is repeated
(--rounds). Each workload's ratio is taken against the ceiling run just before it. It prints,
as the median over the rounds, requests per second, p50/p99 latency and the ratio to the
ceiling; the non-2xx responses of all rounds; and the server's peak memory. On a shared
machine the ceiling itself can swing by half from one run to the next: the median of paired
ratios is the figure that holds still. Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from harness import (
    alternate_with_ceiling,
    free_port,
    peak_rss_mb,
    prepare_database,
    ratios,
    run_wrk,
    seed_assistants,
    start_ceiling,
    wait_ready,
    wrk_scripts,
)

from clarion.config import Settings
from clarion.database.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="times each pair of runs is made")
    parser.add_argument("--sizes", default="1000,100000", help="numbers of assistants")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    for size in (int(n) for n in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
            bench_size(Path(workdir), size, args)


def bench_size(workdir: Path, size: int, args: argparse.Namespace) -> None:
    database_url = prepare_database(workdir, args.postgres)
    env = {**os.environ, "CLARION_DATA_DIR": str(workdir), "CLARION_DATABASE_URL": database_url}
    settings = Settings(data_dir=workdir, database_url=database_url)
    upgrade(settings.database)
    api_key = seed_assistants(settings, size)

    scripts = wrk_scripts(workdir, api_key, size)
    server_port, ceiling_port = free_port(), free_port()
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve", "--port", str(server_port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    ceiling = start_ceiling(ceiling_port)
    try:
        wait_ready(f"http://127.0.0.1:{server_port}/v1/health")
        wait_ready(f"http://127.0.0.1:{ceiling_port}/")
        server_url = f"http://127.0.0.1:{server_port}"
        ceiling_url = f"http://127.0.0.1:{ceiling_port}"
        # Warm both up (imports, caches, connection pools) before measuring.
        run_wrk(ceiling_url, None, 2, args.connections, "warm-up")
        run_wrk(server_url, scripts["get"], 2, args.connections, "warm-up")

        workloads = {
            "GET one": scripts["get"],
            "PATCH one": scripts["patch"],
            "list 100": scripts["list"],
        }
        results = alternate_with_ceiling(
            ceiling_url, server_url, workloads, args.rounds, args.duration, args.connections
        )
        peak_mb = peak_rss_mb(server.pid)
    finally:
        for process in (server, ceiling):
            process.terminate()
            process.wait(timeout=30)
        log.close()

    backend = "postgresql" if args.postgres else "sqlite"
    print(
        f"\n{size:,} assistants, {backend}, 1 server process, {args.connections} connections, "
        f"{args.duration}s per run, median of {args.rounds} rounds"
    )
    print(
        f"{'workload':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
        f"{'ceiling':>10}{'ratio':>8}   ratio of each round"
    )
    for label, pairs in results.items():
        shares = ratios(pairs)
        print(
            f"{label:<12}{median(run.requests_per_second for run, _ in pairs):>10,.0f}"
            f"{median(run.p50_ms for run, _ in pairs):>9.2f}"
            f"{median(run.p99_ms for run, _ in pairs):>9.2f}"
            f"{sum(run.non_2xx for run, _ in pairs):>9}"
            f"{median(ceiling.requests_per_second for _, ceiling in pairs):>10,.0f}"
            f"{median(shares):>8.3f}   " + " ".join(f"{share:.3f}" for share in shares)
        )
    print(f"server peak RSS: {peak_mb:.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
