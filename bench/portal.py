"""Benchmark: the member portal's home page under load, beside the JSON member read.

    python bench/portal.py [--events 500000] [--members 100000] [--backends sqlite,postgresql]
                           [--sessions 500] [--rate 100] [--seconds 25] [--workers 1]
                           [--inprocess 300] [--profile] [--quick]

Target (issue 21): `GET /portal/` renders in <= 50 ms p95 at 100 requests/s on SQLite and
PostgreSQL with 100k members.

Per backend it builds the database with `accolade init` and `accolade ingest` (the demo program,
the stream of bench/ingest.py: EVENTS events over MEMBERS members, so members have history;
then ANALYZE, as autovacuum would leave PostgreSQL), starts `accolade serve --workers WORKERS`
(a subprocess; webhook delivery and rate limiting off), and signs SESSIONS random members in as
a host app would: `POST /v1/members/{id}/token` with an API key (members:read), then
`/portal/enter?token=mt_...`, each member keeping the cookie it was given. Then, each at RATE
requests/s for SECONDS (open loop, as bench/api.py: each request has a scheduled start and its
latency counts from then, so a stalled server cannot hide its queue), after a short warm-up:
- `GET /portal/` with a random signed-in member's cookie;
- beside it, the JSON member read `GET /v1/members/{id}` of a random one of the same members
  with the API key: the same service call (service/members.py `show`) without the session
  check or the page.
Latency is what the client sees over loopback (the load generator shares the machine's cores
with the server); the ratio portal/JSON of the p95s is printed. Beside each, what the server
spends: the CPU seconds of the `accolade serve` processes over the run (/proc) per request,
which the machine's load changes less than latency (PostgreSQL's own work not included).

Then, with the server stopped, the server's own time, in this process on the same database
(the app through Starlette's TestClient, one request at a time, INPROCESS of each) and the
pieces a home page is made of (the session check, `members.show`, the program and tiers lookup,
the zone lookup, the template), p50/p95 each; --profile adds cProfile's top functions of the
in-process home pages.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from api import Latencies, Pool, server
from fastapi.testclient import TestClient
from ingest import PG_URL, PROGRAM, _fresh, accolade, analyze, write_stream
from starlette.requests import Request as StarletteRequest

from accolade.api.app import create_app
from accolade.program.compiled import CompiledProgram
from accolade.service import members as members_service
from accolade.service.keys import create_key
from accolade.service.members import MemberView
from accolade.service.programs import active
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from accolade.web.portal import routes as portal_routes
from accolade.web.portal import web as portal_web
from accolade.web.portal.session import COOKIE, PortalSession, read_session

PROGRAM_KEY = "partner"
TARGET_P95 = 50.0  # ms, at RATE
RATE = 100  # requests/s
WARMUP_SECONDS = 3.0
SECRET = "bench-" + "0" * 32


# --- the database -------------------------------------------------------------------------


@contextmanager
def database(backend: str, work: Path, stream: Path, events: int) -> Iterator[tuple[str, str]]:
    """(URL, target) of a database with the demo program and the stream ingested; a PostgreSQL
    schema is dropped afterwards."""
    url, target = _fresh(backend, work / f"portal-{os.getpid()}.db")
    try:
        accolade("init", "--program-file", str(PROGRAM), url=url)
        seconds, _ = accolade("ingest", str(stream), url=url)
        print(f"  built: {events:,} events ingested in {seconds:.0f} s ({events / seconds:,.0f}/s)")
        analyze(backend, target)
        yield url, target
    finally:
        if backend != "sqlite":
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA {target} CASCADE")


def members_of(stream: Path) -> list[str]:
    with stream.open(encoding="utf-8") as lines:
        return sorted({json.loads(line)["member"] for line in lines})


def api_key(url: str) -> str:
    store = Store.open(url, migrate_schema=False)
    try:
        return create_key(store, PROGRAM_KEY, ("members:read",), "bench portal").key
    finally:
        store.close()


# --- signing in, and load -----------------------------------------------------------------


def sign_in(http: httpx.Client, key: str, member: str) -> str:
    """The session cookie ``member`` gets by following the link a host app would give them."""
    minted = http.post(f"/v1/members/{member}/token", headers={"Authorization": f"Bearer {key}"})
    minted.raise_for_status()
    entered = http.get(
        "/portal/enter", params={"token": minted.json()["token"]}, follow_redirects=False
    )
    if entered.status_code != 303 or COOKIE not in entered.cookies:
        raise SystemExit(f"signing {member} in failed: {entered.status_code} {entered.text}")
    return str(entered.cookies[COOKIE])


Request = tuple[str, bytes]  # (path, extra header lines)


async def at_rate(
    base: str, key: str, requests: list[Request], rate: float, into: Latencies | None
) -> float:
    """Send ``requests`` at ``rate`` per second (open loop); the rate achieved. Latency counts
    from each request's scheduled start, waits for a free connection included."""
    pool = Pool(base, key, 64, use_httpx=False)

    async def one(path: str, headers: bytes, scheduled: float) -> None:
        try:
            status, body = await pool.request("GET", path, headers=headers)
        except (OSError, asyncio.IncompleteReadError) as exc:
            if into is not None:
                into.error(type(exc).__name__)
            return
        if into is None:
            return
        into.seconds.append(time.perf_counter() - scheduled)
        if status != 200:
            into.error(f"HTTP {status}")
        elif path.startswith("/portal/") and b'id="balance"' not in body:
            into.error("a page without the balance")

    try:
        await pool.request("GET", "/healthz")  # one connection open before the clock starts
        tasks = []
        start = time.perf_counter()
        for n, (path, headers) in enumerate(requests):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(path, headers, scheduled)))
        await asyncio.gather(*tasks)
        return len(requests) / (time.perf_counter() - start)
    finally:
        await pool.close()


def portal_requests(cookies: dict[str, str], count: int, pick: random.Random) -> list[Request]:
    members = sorted(cookies)
    return [
        ("/portal/", f"Cookie: {COOKIE}={cookies[m]}\r\n".encode())
        for m in (pick.choice(members) for _ in range(count))
    ]


def json_requests(members: list[str], count: int, pick: random.Random) -> list[Request]:
    return [(f"/v1/members/{pick.choice(members)}", b"") for _ in range(count)]


def server_cpu() -> float:
    """CPU seconds (user + system) spent so far by this process's children and theirs: the
    server, whatever the machine's load (the database server's own work not included)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    ours, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        ours.update(children)
        todo.extend(children)
    return sum(spent[pid] for pid in ours)


# --- in process ---------------------------------------------------------------------------


@dataclass
class Timings:
    """Wall and CPU seconds of each call."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def row(self) -> str:
        ordered = sorted(self.wall)

        def ms(q: float) -> float:
            return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        mean_cpu = 1000 * sum(self.cpu) / len(self.cpu)
        return f"{ms(0.50):7.2f} / {ms(0.95):7.2f} ms {mean_cpu:9.2f} ms"


def timed(run: Callable[[], Any], times: int) -> Timings:
    found = Timings()
    for _ in range(times):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        found.cpu.append(time.process_time() - cpu)
        found.wall.append(time.perf_counter() - wall)
    return found


def inprocess(url: str, key: str, members: list[str], args: argparse.Namespace) -> None:
    """The server's own time per request, in this process on the same database: the app one
    request at a time, and the home page's handler and its pieces called directly."""
    settings = Settings(
        database_url=url,
        deliver_webhooks=False,
        rate_limit_per_minute=0,
        secret_key=SECRET,  # type: ignore[arg-type]
    )
    store = Store.open(url, migrate_schema=False)
    app = create_app(settings, store)
    ctx = app.state.context
    chosen = members[: min(len(members), 100)]
    pick = random.Random(21)
    try:
        with TestClient(app) as client:
            cookies = {}
            for member in chosen:
                client.cookies.clear()
                cookies[member] = sign_in(client, key, member)
            client.cookies.clear()
            auth = {"Authorization": f"Bearer {key}"}
            request = fake_request(app)

            def page() -> None:
                cookie = cookies[pick.choice(chosen)]
                response = client.get("/portal/", cookies={COOKIE: cookie})
                assert response.status_code == 200, response.text

            def read() -> None:
                response = client.get(f"/v1/members/{pick.choice(chosen)}", headers=auth)
                assert response.status_code == 200, response.text

            def session() -> PortalSession:
                cookie = cookies[pick.choice(chosen)]
                return read_session(store, cookie, ctx.clock, secret=ctx.secret)

            def handler() -> None:
                found = session()
                portal_routes.home(request, portal_web.Page(ctx, found, "csrf"))

            def show() -> MemberView:
                return members_service.show(
                    store, PROGRAM_KEY, pick.choice(chosen), clock=ctx.clock
                )

            def program() -> CompiledProgram:
                with store.read() as uow:
                    return active(uow, PROGRAM_KEY).compiled

            compiled = program()
            views = [show() for _ in range(50)]

            def template() -> None:
                view = pick.choice(views)
                portal_web.environment.get_template("home.html").render(
                    request=request,
                    prefix=portal_web.PREFIX,
                    menu=portal_web.MENU,
                    here="/",
                    page=None,
                    csrf="csrf",
                    zone=compiled.zone,
                    when=str,
                    view=view,
                    tier=portal_routes.tier_progress(view, compiled.tiers),
                    next_things=portal_routes.next_things(view),
                    now=ctx.clock(),
                )

            for run in (page, read, handler):  # warm: the compiled program, the templates
                timed(run, 20)
            n = args.inprocess
            rows = [
                ("GET /portal/ through TestClient", timed(page, n)),
                ("GET /v1/members/{id} through TestClient", timed(read, n)),
                ("session check + home handler, called", timed(handler, n)),
                ("  session check (read_session)", timed(session, n)),
                ("  members.show", timed(show, n)),
                ("  the program (programs.active)", timed(program, n)),
                ("  home.html alone", timed(template, n)),
            ]
            print(
                f"  in process, one at a time, {n} each: {'wall p50 / p95':>23} "
                f"{'mean CPU':>12}  ({load()})"
            )
            for name, timings in rows:
                print(f"    {name:<40} {timings.row()}")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.runcall(timed, handler, n)
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
                print(text.getvalue())
    finally:
        store.close()


def fake_request(app: Any) -> StarletteRequest:
    """A request for /portal/ as the handler is given one."""
    return StarletteRequest(
        {
            "type": "http",
            "method": "GET",
            "path": "/portal/",
            "root_path": "",
            "scheme": "http",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")],
            "server": ("127.0.0.1", 80),
            "app": app,
        }
    )


# --- one backend --------------------------------------------------------------------------


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def bench(backend: str, work: Path, stream: Path, args: argparse.Namespace) -> None:
    print(f"\n{backend}:")
    members = members_of(stream)
    pick = random.Random(2026)
    chosen = pick.sample(members, min(args.sessions, len(members)))
    count = int(args.rate * args.seconds)
    warm = int(args.rate * WARMUP_SECONDS)
    with database(backend, work, stream, args.events) as (url, _):
        key = api_key(url)
        with server(url, work, args.workers) as base:
            with httpx.Client(base_url=base, timeout=30) as http:
                start = time.perf_counter()
                cookies = {}
                for member in chosen:
                    http.cookies.clear()
                    cookies[member] = sign_in(http, key, member)
                print(
                    f"  {len(cookies):,} members signed in through their links in "
                    f"{time.perf_counter() - start:.1f} s"
                )
            portal, reads = Latencies(), Latencies()
            asyncio.run(at_rate(base, "", portal_requests(cookies, warm, pick), args.rate, None))
            asyncio.run(at_rate(base, key, json_requests(chosen, warm, pick), args.rate, None))
            before = load()
            cpu = server_cpu()
            portal_rate = asyncio.run(
                at_rate(base, "", portal_requests(cookies, count, pick), args.rate, portal)
            )
            portal_cpu, cpu = (server_cpu() - cpu) / count, server_cpu()
            read_rate = asyncio.run(
                at_rate(base, key, json_requests(chosen, count, pick), args.rate, reads)
            )
            read_cpu = (server_cpu() - cpu) / count
            after = load()
        print(
            f"  accolade serve --workers {args.workers}; {args.rate:g}/s for {args.seconds:g} s "
            f"each, open loop, latency seen by the client over loopback; {before} before, "
            f"{after} after"
        )
        print(
            f"  {'measure':<22} {'rate':>9} {'p50 / p95 / p99':>26} {'server CPU':>12} "
            f"{'errors':>6}  target"
        )
        ok = portal.ms(0.95) <= TARGET_P95 and portal_rate >= 0.95 * args.rate and not portal.errors
        for name, rate, latencies, cpu_each, target in (
            (
                "GET /portal/",
                portal_rate,
                portal,
                portal_cpu,
                f"p95 ≤ {TARGET_P95:.0f} ms {mark(ok)}",
            ),
            ("GET /v1/members/{id}", read_rate, reads, read_cpu, ""),
        ):
            errors = sum(latencies.errors.values())
            print(
                f"  {name:<22} {rate:>7.1f}/s {latencies.quantiles():>26} "
                f"{cpu_each * 1000:>5.1f} ms/req {errors:>6}  {target}"
            )
            if latencies.errors:
                print(f"    errors: {latencies.errors}")
        ratio = portal.ms(0.95) / reads.ms(0.95) if reads.ms(0.95) else float("nan")
        print(f"  ratio portal/JSON of p95: {ratio:.2f}")
        inprocess(url, key, chosen, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sessions", type=int, default=500, help="members signed in")
    parser.add_argument("--rate", type=float, default=RATE, help="requests/s")
    parser.add_argument("--seconds", type=float, default=25.0, help="of each load")
    parser.add_argument("--workers", type=int, default=1, help="of accolade serve")
    parser.add_argument("--inprocess", type=int, default=300, help="in-process requests of each")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process pages")
    parser.add_argument(
        "--quick", action="store_true", help="20,000 events over 2,000 members, 5 s (a smoke run)"
    )
    args = parser.parse_args()
    if args.quick:
        args.events, args.members, args.seconds, args.sessions = 20_000, 2_000, 5.0, 50
    work = Path(tempfile.mkdtemp(prefix="accolade-bench-portal-"))
    stream = work / "events.jsonl"
    write_stream(stream, args.events, args.members)
    print(
        f"stream: {args.events:,} events over {args.members:,} members; "
        f"{os.cpu_count()} cores shared by server and load; {load()}"
    )
    for backend in args.backends.split(","):
        bench(backend, work, stream, args)


if __name__ == "__main__":
    main()
