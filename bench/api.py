"""Benchmark: the HTTP API under load on SQLite and PostgreSQL, beside the in-process ingest rate.

    python bench/api.py [--events 20000] [--singles 2000] [--members 10000]
                        [--backends sqlite,postgresql] [--clients 4] [--httpx] [--quick]

For each backend, on a fresh database each:
- in-process: `accolade.service.ingest.ingest` of the first EVENTS events of the stream, timed
  around the call (chunks and GC tuning as `accolade ingest` has them), in this process;
- then `accolade serve --workers 2` (a subprocess; webhook delivery and rate limiting off), driven
  from this process over loopback (keep-alive HTTP/1.1 on asyncio streams; --httpx for httpx,
  which spends 10-20 times the CPU per request on a machine whose cores the server needs):
  - POST /v1/events, the same EVENTS events in batches of 100, CLIENTS requests at a time;
  - POST /v1/events, the next SINGLES events one per request, CLIENTS at a time (closed loop):
    events/s and latency;
  - GET /v1/members/{id} at a fixed rate (open loop: each request has a scheduled start and its
    latency counts from then, so a stalled server cannot hide its queue), members drawn from
    those the events named.
It prints a table per backend: each figure, its target, ✓/✗, and the batch rate's ratio to the
in-process rate. The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from ingest import PG_URL, PROGRAM, _pg_url, accolade

from accolade.cli.ingest import tune_gc_for_batch
from accolade.sample_events import generate_events
from accolade.service.ingest import ingest
from accolade.service.keys import create_key
from accolade.settings import Settings
from accolade.store.unit_of_work import Store

WORKERS = 2
BATCH = 100
PROGRAM_KEY = "partner"
TARGET_BATCH_RATE = 5_000  # events/s through POST /v1/events in batches of 100
TARGET_RATIO = 0.3  # of the in-process ingest rate
TARGET_SINGLE_P95 = 20.0  # ms
TARGET_READ_P95 = 10.0  # ms, at READ_RATE
READ_RATE = 300  # requests/s


@dataclass
class Latencies:
    """Seconds per request, and what went wrong."""

    seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def ms(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def quantiles(self) -> str:
        return " / ".join(f"{self.ms(q):.1f}" for q in (0.50, 0.95, 0.99)) + " ms"


@dataclass
class Run:
    inprocess: float = 0.0
    batch_rate: float = 0.0
    batch: Latencies = field(default_factory=Latencies)
    single_rate: float = 0.0
    single: Latencies = field(default_factory=Latencies)
    read_rate: float = 0.0
    read: Latencies = field(default_factory=Latencies)
    statuses: dict[str, int] = field(default_factory=dict)


# --- databases ----------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, work: Path) -> Iterator[str]:
    """A migrated database with the demo program published (as bench/ingest.py sets them up):
    a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{work / f'{uuid.uuid4().hex[:8]}.db'}"
        accolade("init", "--program-file", str(PROGRAM), url=url)
        yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        url = _pg_url(schema)
        accolade("init", "--program-file", str(PROGRAM), url=url)
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def inprocess_rate(url: str, lines: list[str]) -> float:
    """events/s of the ingest service itself: the stream as `accolade ingest` reads it (JSON
    lines), its chunk size and GC tuning, timed around the call alone."""
    store = Store.open(url, migrate_schema=False)
    records = list(enumerate(lines, start=1))
    thresholds = gc.get_threshold()
    tune_gc_for_batch()
    try:
        start = time.perf_counter()
        report = ingest(store, PROGRAM_KEY, records, chunk_size=Settings().ingest_chunk_size)
        seconds = time.perf_counter() - start
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        store.close()
    if report.rejected:
        sys.exit(f"in-process ingest rejected {report.rejected} events")
    return len(lines) / seconds


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_SERVE = (sys.executable, "-m", "accolade.cli", "serve", "--host", "127.0.0.1")


@contextmanager
def server(url: str, work: Path, workers: int = WORKERS) -> Iterator[str]:
    """`accolade serve --workers N` (2 unless told) on a free loopback port, until the block
    ends."""
    port = free_port()
    env = {
        **os.environ,
        "ACCOLADE_DATABASE_URL": url,
        "ACCOLADE_DELIVER_WEBHOOKS": "false",
        "ACCOLADE_RATE_LIMIT_PER_MINUTE": "0",
        "ACCOLADE_SECRET_KEY": os.environ.get("ACCOLADE_SECRET_KEY", "bench-" + "0" * 32),
    }
    log = (work / f"serve-{port}.log").open("w+b")
    child = subprocess.Popen(
        [*_SERVE, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if child.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                sys.exit(f"accolade serve did not become ready:\n{log.read().decode()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        log.close()


def api_key(url: str) -> str:
    store = Store.open(url, migrate_schema=False)
    try:
        return create_key(store, PROGRAM_KEY, ("events:write", "members:read"), "bench").key
    finally:
        store.close()


# --- load ---------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the load generator shares the two
    cores with the server, and httpx spends 1-3 ms of CPU per request here (measured; this
    spends about 0.1 ms), which the server would lose."""

    def __init__(self, port: int, head: bytes) -> None:
        self.port = port
        self.head = head
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, bytes]:
        """(status, body); ``headers`` are extra header lines, each ending in CRLF."""
        for attempt in (1, 2):  # a kept-alive connection the server closed: open another
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            try:
                writer.write(
                    f"{method} {path} HTTP/1.1\r\nContent-Length: {len(body)}\r\n".encode()
                    + headers
                    + self.head
                    + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return int(head[9:12]), await reader.readexactly(length)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


class Pool:
    """Connections handed to one request at a time, opened as needed up to ``size``; every
    request carries ``key`` unless it is empty."""

    def __init__(self, base: str, key: str, size: int, use_httpx: bool) -> None:
        self.port = int(base.rsplit(":", 1)[1])
        self.head = (
            f"Host: 127.0.0.1:{self.port}\r\n"
            + (f"Authorization: Bearer {key}\r\n" if key else "")
            + "Content-Type: application/json\r\n\r\n"
        ).encode()
        self.size = size
        self.opened = 0
        self.idle: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
        self.http = (
            httpx.AsyncClient(
                base_url=base,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                timeout=60,
            )
            if use_httpx
            else None
        )

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, bytes]:
        if self.http is not None:
            response = await self.http.request(method, path, content=body)
            return response.status_code, response.content
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            connection = Connection(self.port, self.head)
        else:
            connection = await self.idle.get()
        try:
            return await connection.request(method, path, body, headers)
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        while not self.idle.empty():
            self.idle.get_nowait().close()


async def post_all(
    base: str, key: str, bodies: list[bytes], args: argparse.Namespace, run: Run, into: Latencies
) -> float:
    """POST every body, ``args.clients`` at a time (closed loop); the wall seconds it took."""
    queue = iter(bodies)
    pool = Pool(base, key, args.clients, args.httpx)

    async def client() -> None:
        for body in queue:
            start = time.perf_counter()
            try:
                status, content = await pool.request("POST", "/v1/events", body)
            except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as exc:
                into.error(type(exc).__name__)
                continue
            into.seconds.append(time.perf_counter() - start)
            if status not in (200, 201):
                into.error(f"HTTP {status}")
                continue
            result = json.loads(content)
            if "results" in result:
                for name in ("accepted", "limited", "duplicate", "rejected"):
                    run.statuses[name] = run.statuses.get(name, 0) + result[name]
            else:
                run.statuses[result["status"]] = run.statuses.get(result["status"], 0) + 1

    try:
        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(args.clients)))
        return time.perf_counter() - start
    finally:
        await pool.close()


async def read_at_rate(
    base: str, key: str, members: list[str], args: argparse.Namespace, into: Latencies
) -> float:
    """GET /v1/members/{id} at READ_RATE per second for ``args.read_seconds`` (open loop); the
    rate achieved. Latency counts from each request's scheduled start, waits for a free
    connection included."""
    count = int(READ_RATE * args.read_seconds)
    pick = random.Random(2026)
    paths = [f"/v1/members/{pick.choice(members)}" for _ in range(count)]
    pool = Pool(base, key, 64, args.httpx)

    async def one(path: str, scheduled: float) -> None:
        try:
            status, _ = await pool.request("GET", path)
        except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as exc:
            into.error(type(exc).__name__)
            return
        into.seconds.append(time.perf_counter() - scheduled)
        if status != 200:
            into.error(f"HTTP {status}")

    try:
        await pool.request("GET", "/healthz")  # one connection open before the clock starts
        tasks = []
        start = time.perf_counter()
        for n, path in enumerate(paths):
            scheduled = start + n / READ_RATE
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(path, scheduled)))
        await asyncio.gather(*tasks)
        return count / (time.perf_counter() - start)
    finally:
        await pool.close()


# --- one backend --------------------------------------------------------------------------


def bench(backend: str, work: Path, args: argparse.Namespace, stream: list[dict[str, Any]]) -> Run:
    run = Run()
    batched, singles = stream[: args.events], stream[args.events :]
    lines = [json.dumps(e, separators=(",", ":")) for e in batched]
    with fresh_database(backend, work) as url:
        run.inprocess = inprocess_rate(url, lines)
    bodies = [
        ("[" + ",".join(lines[i : i + BATCH]) + "]").encode() for i in range(0, len(lines), BATCH)
    ]
    single_bodies = [json.dumps(e, separators=(",", ":")).encode() for e in singles]
    members = sorted({e["member"] for e in stream})
    with fresh_database(backend, work) as url, server(url, work) as base:
        key = api_key(url)
        seconds = asyncio.run(post_all(base, key, bodies, args, run, run.batch))
        run.batch_rate = len(batched) / seconds
        seconds = asyncio.run(post_all(base, key, single_bodies, args, run, run.single))
        run.single_rate = len(singles) / seconds
        run.read_rate = asyncio.run(read_at_rate(base, key, members, args, run.read))
    return run


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def report(backend: str, run: Run, args: argparse.Namespace) -> None:
    ratio = run.batch_rate / run.inprocess
    single_p95, read_p95 = run.single.ms(0.95), run.read.ms(0.95)
    print(
        f"\n{backend}: accolade serve --workers {WORKERS}; {args.clients} clients"
        f"{' (httpx)' if args.httpx else ''}; "
        f"in-process ingest of the same {args.events:,} events: {run.inprocess:,.0f} events/s"
    )
    print(f"{'measure':<33} {'result':>24} {'in-process':>11} {'ratio':>6}  {'target':<24}")
    rows = [
        (
            f"POST /v1/events, batches of {BATCH}",
            f"{run.batch_rate:,.0f} events/s",
            f"{run.inprocess:,.0f}",
            f"{ratio:.2f}",
            f"≥ {TARGET_BATCH_RATE:,}, ratio ≥ {TARGET_RATIO}",
            run.batch_rate >= TARGET_BATCH_RATE and ratio >= TARGET_RATIO,
        ),
        ("  latency p50/p95/p99", run.batch.quantiles(), "", "", "", None),
        (
            "POST /v1/events, single events",
            f"{run.single_rate:,.0f} events/s",
            f"{run.inprocess:,.0f}",
            f"{run.single_rate / run.inprocess:.2f}",
            "",
            None,
        ),
        (
            "  latency p50/p95/p99",
            run.single.quantiles(),
            "",
            "",
            f"p95 ≤ {TARGET_SINGLE_P95:.0f} ms",
            single_p95 <= TARGET_SINGLE_P95,
        ),
        (
            f"GET /v1/members/{{id}} at {READ_RATE}/s",
            f"{run.read_rate:,.0f} req/s",
            "",
            "",
            "",
            None,
        ),
        (
            "  latency p50/p95/p99",
            run.read.quantiles(),
            "",
            "",
            f"p95 ≤ {TARGET_READ_P95:.0f} ms",
            read_p95 <= TARGET_READ_P95 and run.read_rate >= 0.95 * READ_RATE,
        ),
    ]
    for name, result, inproc, r, target, ok in rows:
        print(
            f"{name:<33} {result:>24} {inproc:>11} {r:>6}  {target:<24} "
            f"{'' if ok is None else mark(ok)}"
        )
    statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(run.statuses.items()))
    print(f"events: {statuses}")
    for what, latencies in (("batches", run.batch), ("singles", run.single), ("reads", run.read)):
        if latencies.errors:
            print(f"errors in {what}: {latencies.errors}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="events sent in batches")
    parser.add_argument("--singles", type=int, default=2_000, help="events sent one at a time")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent requests")
    parser.add_argument("--read-seconds", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--httpx", action="store_true", help="drive it with httpx instead (costs more CPU)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="5,000 + 500 events, 3 s of reads (a smoke run)"
    )
    args = parser.parse_args()
    if args.quick:
        args.events, args.singles, args.read_seconds = 5_000, 500, 3.0
    work = Path(tempfile.mkdtemp(prefix="accolade-bench-api-"))
    stream = list(generate_events(args.events + args.singles, args.members, seed=2026))
    print(
        f"stream: {args.events:,} events in batches of {BATCH} + {args.singles:,} single events "
        f"over {args.members:,} members; {os.cpu_count()} cores shared by server and load"
    )
    for backend in args.backends.split(","):
        report(backend, bench(backend, work, args, stream), args)


if __name__ == "__main__":
    main()
