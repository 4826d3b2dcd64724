"""Benchmark: the server's time of each admin console page on a long log, beside the bare
driver's count of active members.

    python bench/console.py [--events 1000000] [--members 100000] [--backends sqlite,postgresql]
                            [--runs 20]

Target (issue 22): every console page <= 200 ms p95 server-side with 100k members and 1M
events, on SQLite and PostgreSQL.

Per backend it builds the log as bench/analytics.py does (`accolade init` with the partner
program and its `analytics` and `experiments` sections, `accolade ingest` of the stream of
bench/ingest.py, then ANALYZE), makes a console admin, signs in once through the form, and
times `--runs` GETs of each page through the app in this process (Starlette's TestClient, one
request at a time, as bench/portal.py's in-process figures): every console page without a path
parameter (found in the console's routers, so other sections' pages are timed too), each
analytics dashboard for 2026-01-01..2026-03-31 by month, the members behind one figure and the
experiment's page; beside each analytics page, the service call behind it alone (what the
page adds is the console's cost). An analytics page serves the figures it keeps while the log
has not moved (service/figures.py; the untimed first GETs compute them): beside it, the same
page with ``fresh=1``, its figures computed in the request, as after events arrived. Beside
them, measured in the same run: the raw figure, the bare driver counting the distinct active
members of each month of the quarter in one query (bench/analytics.py's).

``--url URL`` times the pages on a database built before (as this bench builds it) instead of
building one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from analytics import ANALYTICS, QUARTER, raw_active
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from ingest import PG_URL, PROGRAM, _fresh, accolade, analyze, write_stream
from portal import SECRET, Timings, load, mark, timed

from accolade.api.app import create_app
from accolade.errors import Conflict
from accolade.service import analytics, experiments
from accolade.service.console_users import create_user
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from accolade.web import console

TARGET_P95 = 200.0  # ms, per page
EMAIL = "bench@example.com"
PASSWORD = "bench console password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PROGRAM_KEY = "partner"
QUARTER_QUERY = f"from={QUARTER[0]}&to={QUARTER[1]}&interval=month"
EXPERIMENT_PAGE = "/console/analytics/experiments/video_points"
MEMBERS_PAGE = f"/console/analytics/active/members?{QUARTER_QUERY}&measure=active&period=2026-02"
WARM = 3  # untimed GETs of each page first: the compiled program, the templates


def services(store: Store) -> dict[str, Callable[[], Any]]:
    """The service call behind each analytics page, by its path: what the page costs beyond it
    is the console's own."""
    calls: dict[str, Callable[[], Any]] = {
        f"/console/analytics/{metric}?{QUARTER_QUERY}": (
            lambda m=metric: analytics.report(store, PROGRAM_KEY, m, *QUARTER, "month")
        )
        for metric in analytics.METRICS
    }
    calls[EXPERIMENT_PAGE] = lambda: experiments.report(store, PROGRAM_KEY, "video_points")
    calls[MEMBERS_PAGE] = lambda: analytics.members(
        store,
        PROGRAM_KEY,
        "active",
        "active",
        start=QUARTER[0],
        end=QUARTER[1],
        interval="month",
        period="2026-02",
    )
    return calls


def pages() -> list[str]:
    """Every console page to time: the GET pages without a path parameter, the dashboards
    for the quarter, the members behind a figure, the experiment."""
    found = sorted(
        route.path
        for router in console.ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and "GET" in route.methods
        and "{" not in route.path
        and not route.path.endswith(("/signout", "/switch", "/csv"))
    )
    found += [f"/console/analytics/{metric}?{QUARTER_QUERY}" for metric in analytics.METRICS]
    found += [MEMBERS_PAGE, EXPERIMENT_PAGE]
    return found


def shown(path: str) -> str:
    """A path as the table prints it: the quarter's filters as 'Q1'."""
    return path.replace(QUARTER_QUERY, "Q1")


def sign_in(client: TestClient) -> None:
    form = client.get("/console/signin")
    token = CSRF.search(form.text)
    if token is None:
        raise SystemExit("the sign-in page has no CSRF token")
    signed = client.post(
        "/console/signin",
        data={"email": EMAIL, "password": PASSWORD, "csrf": token.group(1)},
        follow_redirects=False,
    )
    if signed.status_code != 303:
        raise SystemExit(f"signing in failed: {signed.status_code} {signed.text[:300]}")


def bench(url: str, runs: int, raw: Timings) -> None:
    settings = Settings(
        database_url=url,
        deliver_webhooks=False,
        rate_limit_per_minute=0,
        secret_key=SECRET,  # type: ignore[arg-type]
    )
    store = Store.open(url, migrate_schema=False)
    try:
        with contextlib.suppress(Conflict):  # --url: a database this bench signed in to before
            create_user(store, EMAIL, "admin", PASSWORD)
        app = create_app(settings, store)
        with TestClient(app) as client:
            sign_in(client)
            paths = pages()
            width = max(len(shown(p)) for p in paths) + 4
            print(
                f"  in process, one at a time, {runs} each ({load()}); target p95 <= "
                f"{TARGET_P95:.0f} ms; Q1 is ?{QUARTER_QUERY}"
            )
            print(f"    {'':<{width}} {'wall p50 / p95':>23} {'mean CPU':>12}")
            print(f"    {'raw: active per month (driver)':<{width}} {raw.row()}")
            behind = services(store)
            worst = 0.0
            for path in paths:

                def get(path: str = path) -> None:
                    answer = client.get(path)
                    if answer.status_code != 200:
                        raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:300]}")

                timed(get, WARM)
                found = timed(get, runs)
                p95 = 1000 * sorted(found.wall)[min(runs - 1, int(0.95 * runs))]
                worst = max(worst, p95)
                print(
                    f"    GET {shown(path):<{width - 4}} {found.row()}  {mark(p95 <= TARGET_P95)}"
                )
                if path in behind:
                    fresh = path + ("&" if "?" in path else "?") + "fresh=1"
                    computed = timed(lambda fresh=fresh: get(fresh), runs)
                    print(f"    {'  computed in the request (fresh=1)':<{width}} {computed.row()}")
                    alone = timed(behind[path], runs)
                    print(f"    {'  the service call alone':<{width}} {alone.row()}")
            print(f"  worst p95 {worst:.0f} ms {mark(worst <= TARGET_P95)}")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--url", help="a database built before, as this bench builds it")
    args = parser.parse_args()
    if args.url:
        backend = "sqlite" if args.url.startswith("sqlite") else "postgresql"
        target = args.url.split("///", 1)[1] if backend == "sqlite" else args.url.split("%3D")[-1]
        print(f"{backend}: the database at {args.url}; {os.cpu_count()} cores; {load()}")
        bench(args.url, args.runs, timed(raw_active(backend, target), args.runs))
        return
    work = Path(tempfile.mkdtemp(prefix="accolade-bench-console-"))
    program = work / "program.yaml"
    program.write_text(PROGRAM.read_text(encoding="utf-8") + ANALYTICS, encoding="utf-8")
    stream = work / "events.jsonl"
    write_stream(stream, args.events, args.members)
    print(
        f"log: {args.events:,} events over {args.members:,} members; {os.cpu_count()} cores; "
        f"{load()}"
    )
    for backend in args.backends.split(","):
        url, target = _fresh(backend, work / f"console-{os.getpid()}.db")
        accolade("init", "--program-file", str(program), url=url)
        built, _ = accolade("ingest", str(stream), url=url)
        analyze(backend, target)
        print(f"\n{backend}: log built in {built:.0f} s ({args.events / built:,.0f} events/s)")
        try:
            raw = timed(raw_active(backend, target), args.runs)
            bench(url, args.runs, raw)
        finally:
            if backend != "sqlite":
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(f"DROP SCHEMA {target} CASCADE")


if __name__ == "__main__":
    main()
