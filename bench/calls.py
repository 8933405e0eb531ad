"""Benchmark of web calls: N concurrent calls on one server process, a fake model answering at
once, each call one user turn every T seconds.

    .venv/bin/python bench/calls.py     # 1,000 calls, a turn each per 5 s, 30 s, SQLite
    .venv/bin/python bench/calls.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/calls.py --calls 500 --interval 0 --client-processes 2   # saturation
    .venv/bin/python bench/calls.py --calls 500 --interval 0 --client-processes 2 \\
        --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/calls.py --calls 200 --costly-schemas 6   # analyses beside the calls

It starts `clarion serve` (one process) on a database of its own, the fake model of
bench/fake_llm.py in a process of its own, and an organization with an OpenAI credential
pointing at the fake and an assistant with a first message. A few calls warm the server up;
then the client processes (``--client-processes``) create the N calls (``--create-concurrency``
at a time), join their WebSockets and wait for every first message; only then does the
measured window (``--duration``) start. Paced (``--interval T``): each call sends a
user-message every T seconds, the calls staggered evenly over T so the load is smooth.
Saturation (``--interval 0``): each call sends its next user-message as soon as the
assistant-message closing the last one arrives, so turns/s is the server's maximum. Every turn
sends the model the whole conversation so far, so a turn costs more as a call goes on: the
saturation run takes enough calls (500) that each has a few dozen turns, as a phone call
does, rather than hundreds.

It prints turns per second; each turn's latency as the client sees it, from sending the
user-message to receiving the assistant-message (p50, p90, p99, max); the server's CPU over the
window and per turn; its RSS before the calls, once all are live, at the end of the window
and at its peak, and the RSS per live call; the clients' and the fake's CPU (a client near a
whole core means the client, not the server, is the limit); and failures by kind: a call not
created (non-2xx) or not joined, an error frame, a call that ends unasked, a turn without its
assistant-message within ``--turn-timeout``, a hangup not answered by call-ended. The client
offers no permessage-deflate unless ``--deflate``; browsers offer it, and it costs the server
memory per call.

``--costly-schemas K`` ends K more calls as the window starts, each of an assistant whose
structured-data schema costs seconds of CPU to build (1,200 distinct linear patterns), so
their analyses run while the measured calls talk: compare the latency with and without.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop
from fake_llm import REPLY
from harness import (
    create_organization,
    free_port,
    percentile,
    post_json,
    prepare_database,
    receive_from,
    running_process,
    wait_ready,
)

BENCH = Path(__file__).resolve().parent
FIRST_MESSAGE = "Hello."
USER_MESSAGE = orjson.dumps({"type": "user-message", "text": "When is my appointment?"}).decode()
HANGUP = orjson.dumps({"type": "hangup"}).decode()
WARM_UP_CALLS, WARM_UP_TURNS = 4, 3
LATE_SECONDS = 0.010  # a turn sent this much behind its schedule shows the client lagging
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="concurrent web calls")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between a call's turns (0: saturate)"
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--create-concurrency", type=int, default=32, help="calls joined at once")
    parser.add_argument("--turn-timeout", type=float, default=5.0, help="seconds per turn")
    parser.add_argument(
        "--deflate", action="store_true", help="offer permessage-deflate, as browsers do"
    )
    parser.add_argument(
        "--costly-schemas", type=int, default=0, help="analyses of a costly schema in the window"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as workdir:
        bench(Path(workdir), args)


@dataclass
class Plan:
    """What one client process does: its share of the calls, and how."""

    base: str
    api_key: str
    assistant_id: int
    indexes: list[int]
    calls: int
    interval: float
    turn_timeout: float
    create_concurrency: int
    deflate: bool
    costly_assistant_id: int = 0


@dataclass
class Outcome:
    """What one client process saw."""

    joined: int = 0
    latencies: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


class CallFailed(Exception):
    """The call failed the benchmark; the message is its kind, counted in the summary."""


# ---- the client side: one WebSocket per call, the web call protocol


async def _frame(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await socket.receive()
    if message.type != aiohttp.WSMsgType.TEXT:
        raise CallFailed(f"socket closed ({message.type.name.lower()})")
    frame: dict[str, Any] = orjson.loads(message.data)
    kind = frame.get("type")
    if kind == "error":
        raise CallFailed(f"error frame: {str(frame.get('message'))[:100]}")
    if kind == "call-ended":
        raise CallFailed(f"call ended unasked ({frame.get('ended_reason')})")
    return frame


async def _join(session: aiohttp.ClientSession, plan: Plan) -> aiohttp.ClientWebSocketResponse:
    """Create a call, join it, and return once its first message is heard."""
    headers = {"Authorization": f"Bearer {plan.api_key}"}
    body = {"assistant_id": plan.assistant_id}
    try:
        async with session.post(f"{plan.base}/v1/call", json=body, headers=headers) as response:
            if response.status != 201:
                raise CallFailed(f"create: HTTP {response.status}")
            url = (await response.json())["web_call_url"]
        socket = await session.ws_connect(url, compress=15 if plan.deflate else 0)
    except aiohttp.WSServerHandshakeError as exc:
        raise CallFailed(f"join: HTTP {exc.status}") from None
    except aiohttp.ClientError as exc:
        raise CallFailed(f"create or join: {type(exc).__name__}") from None
    try:
        async with asyncio.timeout(plan.turn_timeout):
            if (await _frame(socket))["type"] != "call-started":
                raise CallFailed("join: no call-started")
            first = await _frame(socket)
        if first["type"] != "assistant-message" or first["text"] != FIRST_MESSAGE:
            raise CallFailed("join: no first message")
    except TimeoutError:
        await socket.close()
        raise CallFailed("join: first message timed out") from None
    except CallFailed:
        await socket.close()
        raise
    return socket


async def _turn(socket: aiohttp.ClientWebSocketResponse, timeout: float) -> float:
    """One user turn; seconds from sending the user-message to the assistant-message."""
    sent = time.monotonic()
    await socket.send_str(USER_MESSAGE)
    try:
        async with asyncio.timeout(timeout):
            while True:
                frame = await _frame(socket)
                if frame["type"] == "assistant-message":
                    break
                if frame["type"] != "assistant-delta":
                    raise CallFailed(f"unexpected {frame['type']} frame")
    except TimeoutError:
        raise CallFailed("turn timed out") from None
    if frame["text"] != "".join(REPLY):
        raise CallFailed("wrong assistant-message")
    return time.monotonic() - sent


async def _hang_up(socket: aiohttp.ClientWebSocketResponse) -> None:
    await socket.send_str(HANGUP)
    try:
        async with asyncio.timeout(30):
            while True:
                message = await socket.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise CallFailed("hangup: closed without call-ended")
                frame = orjson.loads(message.data)
                if frame.get("type") == "call-ended":
                    break
            closing = await socket.receive()
    except TimeoutError:
        raise CallFailed("hangup: no call-ended") from None
    finally:
        await socket.close()
    if frame.get("ended_reason") != "customer-ended":
        raise CallFailed(f"hangup: ended as {frame.get('ended_reason')}")
    if closing.type != aiohttp.WSMsgType.CLOSE or socket.close_code != 1000:
        raise CallFailed("hangup: not closed with 1000")


async def _converse(
    socket: aiohttp.ClientWebSocketResponse,
    plan: Plan,
    first_due: float,
    end: float,
    outcome: Outcome,
) -> bool:
    """The call's turns in the window (paced, or back to back when the interval is 0);
    whether the call is still good."""
    due = first_due
    while due < end:
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        elif plan.interval:
            outcome.late.append(-wait)
        try:
            outcome.latencies.append(await _turn(socket, plan.turn_timeout))
        except CallFailed as failure:
            outcome.failures[str(failure)] += 1
            await socket.close()
            return False
        due = due + plan.interval if plan.interval else time.monotonic()
    return True


async def _gathered(
    session: aiohttp.ClientSession, plan: Plan, outcome: Outcome
) -> dict[int, aiohttp.ClientWebSocketResponse]:
    """Every call of the plan joined (those that could be), by global index."""
    gate = asyncio.Semaphore(plan.create_concurrency)

    async def one(index: int) -> tuple[int, aiohttp.ClientWebSocketResponse | None]:
        async with gate:
            try:
                return index, await _join(session, plan)
            except CallFailed as failure:
                outcome.failures[str(failure)] += 1
                return index, None

    joined = await asyncio.gather(*(one(index) for index in plan.indexes))
    return {index: socket for index, socket in joined if socket is not None}


async def _client(connection: Connection, plan: Plan) -> None:
    outcome = Outcome()
    connector = aiohttp.TCPConnector(limit=0)  # a WebSocket holds its connection
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = await _gathered(session, plan, outcome)
        outcome.joined = len(sockets)
        connection.send(("ready", outcome.joined))
        start, duration = await asyncio.to_thread(connection.recv)
        end = start + duration
        stagger = plan.interval / plan.calls
        good = await asyncio.gather(
            *(
                _converse(socket, plan, start + index * stagger, end, outcome)
                for index, socket in sockets.items()
            )
        )
        connection.send(outcome)
        await asyncio.to_thread(connection.recv)  # hang up now
        hangups = Outcome()
        ended = await asyncio.gather(
            *(_hang_up(socket) for socket, ok in zip(sockets.values(), good, strict=True) if ok),
            return_exceptions=True,
        )
        for result in ended:
            if isinstance(result, BaseException):
                hangups.failures[str(result) or type(result).__name__] += 1
        connection.send(hangups)


def client_process(connection: Connection, plan: Plan) -> None:
    """A client process's body: join its calls, hold them through the window, hang up."""
    uvloop.run(_client(connection, plan))


async def _warm_up(plan: Plan) -> None:
    """A few calls of a few turns, so start-up costs are not counted as the calls'."""
    async with aiohttp.ClientSession() as session:
        try:
            for _ in range(WARM_UP_CALLS):
                socket = await _join(session, plan)
                for _turn_number in range(WARM_UP_TURNS):
                    await _turn(socket, plan.turn_timeout)
                await _hang_up(socket)
        except CallFailed as failure:
            raise SystemExit(f"a warm-up call failed: {failure}") from None


# ---- the parent: processes, set-up, the window, the summary


def bench(workdir: Path, args: argparse.Namespace) -> None:
    # Every call is a socket on both sides: lift the open-file limit (1,024 on many systems)
    # to the hard limit for this process and those it starts.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_url = prepare_database(workdir, args.postgres)
    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(workdir),
        "CLARION_DATABASE_URL": database_url,
        "CLARION_ALLOWED_NETWORKS": "127.0.0.0/8",  # the fake model is on loopback
        "CLARION_MAX_LIVE_CALLS_PER_ORGANIZATION": str(args.calls + WARM_UP_CALLS + 100),
        "CLARION_LOG_FORMAT": "text",
    }
    llm_port, server_port = free_port(), free_port()
    log_path = workdir / "server.log"
    with (
        log_path.open("w") as log,
        running_process(
            [sys.executable, str(BENCH / "fake_llm.py"), "--port", str(llm_port)]
        ) as fake,
        running_process(
            [sys.executable, "-m", "clarion", "serve", "--port", str(server_port)],
            env=env,
            output=log,
        ) as server,
    ):
        base = f"http://127.0.0.1:{server_port}"
        wait_ready(f"{base}/v1/health")
        wait_ready(f"http://127.0.0.1:{llm_port}/")
        api_key = create_organization(env)
        assistant_id = _assistant(base, api_key, f"http://127.0.0.1:{llm_port}/v1")
        plan = Plan(
            base,
            api_key,
            assistant_id,
            [],
            args.calls,
            args.interval,
            args.turn_timeout,
            args.create_concurrency,
            args.deflate,
        )
        uvloop.run(_warm_up(plan))
        time.sleep(1)  # let the warm-up calls' after-call work finish
        if args.costly_schemas:
            plan.costly_assistant_id = _assistant(
                base, api_key, f"http://127.0.0.1:{llm_port}/v1", COSTLY_PLAN
            )
        figures = _measure(plan, args, server.pid, fake.pid)
    _print_summary(args, figures, log_path)


def _assistant(
    base: str, api_key: str, model_url: str, analysis_plan: dict[str, Any] | None = None
) -> int:
    if analysis_plan is None:
        credential = {"provider": "openai", "api_key": "sk-bench", "base_url": model_url}
        post_json(f"{base}/v1/credential", api_key, credential)
    assistant: dict[str, Any] = {
        "name": "Bench",
        "model": {
            "provider": "openai",
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "You are brief."}],
        },
        "first_message": FIRST_MESSAGE,
        "silence_timeout_seconds": 3600,
        "max_duration_seconds": 43200,
    }
    if analysis_plan is not None:
        assistant["analysis_plan"] = analysis_plan
    assistant_id: int = post_json(f"{base}/v1/assistant", api_key, assistant)["id"]
    return assistant_id


# Distinct linear patterns (identical ones are built once): seconds of CPU to build.
COSTLY_PLAN = {
    "structuredDataPrompt": "Extract the code.",
    "structuredDataSchema": {
        "type": "object",
        "properties": {
            f"p{n}": {"type": "string", "pattern": f"[\\w\\W]{{300}}$|{n}"} for n in range(1200)
        },
    },
}


async def _costly_analyses(plan: Plan, count: int) -> None:
    """End ``count`` calls of the costly schema's assistant, one turn each: their analyses
    follow."""
    costly = Plan(**{**vars(plan), "assistant_id": plan.costly_assistant_id})
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            socket = await _join(session, costly)
            await _turn(socket, plan.turn_timeout)
            await _hang_up(socket)


@dataclass
class Figures:
    """What the parent gathers for the summary."""

    joined: int
    outcome: Outcome
    hangup_failures: Counter[str]
    rss_kb: dict[str, int]
    server_cpu: float
    client_cpu: float
    fake_cpu: float


def _measure(plan: Plan, args: argparse.Namespace, server_pid: int, fake_pid: int) -> Figures:
    """Join the calls from the client processes, then run and measure the window."""
    context = multiprocessing.get_context("spawn")
    count = max(1, args.client_processes)
    clients = []
    for number in range(count):
        parent_end, child_end = context.Pipe()
        share = Plan(**{**vars(plan), "indexes": list(range(number, plan.calls, count))})
        share.create_concurrency = max(1, plan.create_concurrency // count)
        process = context.Process(target=client_process, args=(child_end, share), daemon=True)
        process.start()
        clients.append((process, parent_end))
    try:
        rss = {"before": _status_kb(server_pid, "VmRSS")}
        joined = sum(receive_from(process, end, 600)[1] for process, end in clients)
        rss["live"] = _status_kb(server_pid, "VmRSS")
        pids = [process.pid or 0 for process, _ in clients]
        start = time.monotonic() + 0.5
        for _, end in clients:
            end.send((start, args.duration))
        time.sleep(max(0.0, start - time.monotonic()))
        cpu = {pid: _cpu_seconds(pid) for pid in (server_pid, fake_pid, *pids)}
        if args.costly_schemas:
            uvloop.run(_costly_analyses(plan, args.costly_schemas))
        time.sleep(max(0.0, start + args.duration - time.monotonic()))
        used = {pid: _cpu_seconds(pid) - seconds for pid, seconds in cpu.items()}
        rss["end"] = _status_kb(server_pid, "VmRSS")
        outcome = Outcome(joined)
        for process, end in clients:
            part: Outcome = receive_from(process, end, args.turn_timeout + 60)
            outcome.latencies += part.latencies
            outcome.late += part.late
            outcome.failures += part.failures
        rss["peak"] = _status_kb(server_pid, "VmHWM")
        hangups: Counter[str] = Counter()
        for _, end in clients:
            end.send("hang up")
        for process, end in clients:
            hangups += receive_from(process, end, 120).failures
            process.join(30)
    finally:
        for process, _ in clients:
            if process.is_alive():
                process.terminate()
    return Figures(
        joined,
        outcome,
        hangups,
        rss,
        used[server_pid],
        sum(used[pid] for pid in pids),
        used[fake_pid],
    )


def _status_kb(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {name} for process {pid}")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of the process, all its threads."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name, in parentheses, may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _print_summary(args: argparse.Namespace, figures: Figures, log_path: Path) -> None:
    outcome = figures.outcome
    ordered = sorted(outcome.latencies)
    turns = len(ordered)
    ms = {name: 1000 * percentile(ordered, share) for name, share in PERCENTILES.items()}
    rss = {name: kb / 1024 for name, kb in figures.rss_kb.items()}
    per_call = (figures.rss_kb["live"] - figures.rss_kb["before"]) / max(1, figures.joined)
    failures = outcome.failures + figures.hangup_failures
    mode = f"interval={args.interval:g}s" if args.interval else "interval=0 (saturation)"
    per_turn = f"{1000 * figures.server_cpu / turns:.2f} ms/turn" if turns else "no turns"
    print(
        f"calls={args.calls} {mode} duration={args.duration:g}s "
        f"db={'postgresql' if args.postgres else 'sqlite'} "
        f"client-processes={args.client_processes}{' deflate' if args.deflate else ''} | "
        f"turns={turns} turns/s={turns / args.duration:.1f} | "
        f"added latency p50={ms['p50']:.1f}ms p90={ms['p90']:.1f}ms p99={ms['p99']:.1f}ms "
        f"max={ms['max']:.1f}ms | "
        f"server cpu={figures.server_cpu:.1f}s ({per_turn}, "
        f"{100 * figures.server_cpu / args.duration:.0f}% of a core) | "
        f"rss before={rss['before']:.1f} MB, live={rss['live']:.1f} MB, "
        f"per call={per_call:.0f} KB, end={rss['end']:.1f} MB, peak={rss['peak']:.1f} MB | "
        f"failures={sum(failures.values())}"
    )
    if args.interval:
        expected = figures.joined * args.duration / args.interval
        print(f"  expected about {expected:.0f} turns from {figures.joined} calls")
    else:
        print(
            f"  {turns / max(1, figures.joined):.0f} turns per call: each turn sends the "
            "model the whole conversation so far, so the longer the calls, the more a turn costs"
        )
    print(
        "  latency is the client's, from sending the user-message to receiving the "
        "assistant-message: it includes loopback, the fake model and the client's own "
        "scheduling, so it is an upper bound of what the server adds"
    )
    late = sorted(outcome.late)
    print(
        f"  clients: cpu {100 * figures.client_cpu / args.duration:.0f}% of a core "
        f"over {args.client_processes} process(es); turns sent over "
        f"{1000 * LATE_SECONDS:g} ms behind schedule: "
        f"{sum(1 for lag in late if lag > LATE_SECONDS)}"
        + (f" (max {1000 * late[-1]:.0f} ms)" if late else "")
        + f" | fake model: cpu {100 * figures.fake_cpu / args.duration:.0f}% of a core"
    )
    for kind, number in failures.most_common():
        print(f"  failure: {kind}: {number}")
    problems = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if "WARNING" in line or "ERROR" in line or "Traceback" in line
    ]
    if problems:
        print(f"  server log: {len(problems)} warning or error lines, the first:")
        for line in problems[:5]:
            print(f"    {line[:200]}")
    sys.stdout.flush()


PERCENTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "max": 1.0}


if __name__ == "__main__":
    main()
