"""Benchmark: leaderboards at a million members, on SQLite and PostgreSQL.

    python bench/leaderboards.py [--events 5000000] [--members 1000000] [--days 90]
                                 [--backends sqlite,postgresql] [--samples 500]
                                 [--reads-only]

The stream: `--events` demo-program events over `--members` members and the `--days` days up to
now, every member carrying a `region` from their first event. Per backend:
1. ingest rate with leaderboards off and on: the real command (`accolade ingest FILE`, start-up
   included) on a fresh database with the demo program; then with the demo program plus three
   boards, all-time, this week and the last 30 days (rolling) (target: at least 0.7 of off);
   then plus a fourth, all-time by region (reported; the database the reads run on);
2. reads, in-process through the service (`accolade.service.leaderboards`) on the loaded
   database, p50/p95 over `--samples` calls per board: a page of the top 10, a member's rank
   (standing without neighbours) and around-me (5 above and below); beside them, from the same
   run, the raw database doing the same shapes on a plain table of the all-time scores: an
   indexed `ORDER BY score DESC LIMIT 10`, and a rank as `COUNT(*) WHERE score > x`
   (targets: top 10 p95 <= 5 ms, rank and around-me p95 <= 10 ms);
3. roll-over of the 30-day window: `accolade leaderboards close` one day later (one day leaves
   it), then 30 days later than that (every day leaves: every subject of the board moves, the
   worst case); target <= 30 s.
PostgreSQL tables are analysed after the load (as autovacuum would) before reads are timed.
`--reads-only` loads only the four-board database (no ingest ratio): a second look at the reads
and the roll-over in half the time.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import yaml
from ingest import PG_URL, _pg_url, accolade

from accolade.sample_events import REGIONS, generate_events
from accolade.service import leaderboards as lb
from accolade.service.leaderboard_windows import close_windows
from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "partner-program.yaml"
BOARDS: list[dict[str, Any]] = [
    {"key": "all_time", "name": "All time"},
    {"key": "this_week", "name": "Top performer this week", "window": "week"},
    {"key": "last_30_days", "name": "Last 30 days", "window": "30d"},
    {"key": "by_region", "name": "All time, by region", "partition": ["region"]},
]
TOP_P95_MS, RANK_P95_MS, ROLL_SECONDS, INGEST_RATIO = 5.0, 10.0, 30.0, 0.7


def _at(when: datetime) -> datetime:
    """A clock stopped at ``when``."""
    return when


def write_programs(work: Path) -> tuple[list[Path], str]:
    """The demo program without boards, with the three windows, and with all four."""
    program: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    paths = []
    for n in (0, 3, 4):
        if n:
            program["leaderboards"] = BOARDS[:n]
        path = work / f"boards-{n}.yaml"
        path.write_text(yaml.safe_dump(program, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths, str(program["key"])


def write_stream(path: Path, events: int, members: int, days: int) -> None:
    """The demo stream over the last ``days`` days; each member's first event names a region."""
    start = datetime.now(UTC) - timedelta(days=days)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as out:
        for event in generate_events(events, members, seed=2026, start=start, days=days):
            member = event["member"]
            if member not in seen:
                seen.add(member)
                number = int(member.rsplit("-", 1)[1])
                event["attributes"] = {
                    **event.get("attributes", {}),
                    "region": REGIONS[number % len(REGIONS)],
                }
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


def fresh(backend: str, work: Path, name: str) -> tuple[str, str]:
    """(SQLAlchemy URL, SQLite path or PostgreSQL schema) of a new empty database."""
    if backend == "sqlite":
        path = work / f"{name}.db"
        return f"sqlite:///{path}", str(path)
    schema = f"bench_lb_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    return _pg_url(schema), schema


def drop(backend: str, target: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
        return
    if backend == "postgresql":
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {target} CASCADE")


def quantiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(run: Callable[[], Any], times: int) -> tuple[float, float]:
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return quantiles(seconds)


class Raw:
    """The bare driver on the same database: the limit the board reads are measured against."""

    def __init__(self, backend: str, target: str) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.db: Any = sqlite3.connect(target)
        else:
            self.db = psycopg.connect(PG_URL, options=f"-csearch_path={target}", autocommit=True)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.backend == "postgresql":
            sql = sql.replace("?", "%s")
        cursor = self.db.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []

    def load_plain_table(self, window_id: int) -> int:
        self.query("DROP TABLE IF EXISTS raw_scores")
        self.query("CREATE TABLE raw_scores (id bigint PRIMARY KEY, score bigint NOT NULL)")
        self.query(
            "INSERT INTO raw_scores (id, score) SELECT row_number() OVER (ORDER BY subject), "
            "score FROM leaderboard_scores WHERE window_id = ?",
            (window_id,),
        )
        self.query("CREATE INDEX raw_scores_score ON raw_scores (score DESC)")
        if self.backend == "sqlite":
            self.db.commit()
        else:
            self.query("VACUUM ANALYZE raw_scores")
        return int(self.query("SELECT COUNT(*) FROM raw_scores")[0][0])

    def close(self) -> None:
        if self.backend == "postgresql":
            self.query("DROP TABLE IF EXISTS raw_scores")
        self.db.close()


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def bench_reads(
    backend: str, url: str, target: str, key: str, samples: int, rng: random.Random
) -> list[str]:
    raw = Raw(backend, target)
    if backend == "postgresql":
        raw.query(
            "VACUUM ANALYZE leaderboard_scores, leaderboard_buckets, leaderboard_days, "
            "leaderboard_windows, members"
        )
    store = Store(make_engine(url))
    lines = []
    windows = {b: w for b, w in [(w[0], w[1]) for w in raw.query(
        "SELECT board, id FROM leaderboard_windows WHERE label IN ('all', 'rolling') "
        "OR label = (SELECT MAX(label) FROM leaderboard_windows WHERE board = 'this_week')"
    )]}  # fmt: skip
    for board in ("all_time", "this_week", "last_30_days", "by_region"):
        window_id = windows[board]
        partition = {"region": "EMEA"} if board == "by_region" else None
        where = '["EMEA"]' if board == "by_region" else ""
        subjects = [
            r[0]
            for r in raw.query(
                "SELECT subject FROM leaderboard_scores WHERE window_id = ? AND partition_key = ? "
                "AND score > 0",
                (window_id, where),
            )
        ]
        chosen = rng.sample(subjects, min(samples, len(subjects)))
        top = timed(lambda: lb.top(store, key, board, partition=partition), samples)  # noqa: B023
        ranks, around = [], []
        for member in chosen:
            start = time.perf_counter()
            lb.standing(store, key, board, member, around=0)
            ranks.append(time.perf_counter() - start)
            start = time.perf_counter()
            lb.standing(store, key, board, member, around=5)
            around.append(time.perf_counter() - start)
        rank_q, around_q = quantiles(ranks), quantiles(around)
        ok = top[1] <= TOP_P95_MS and rank_q[1] <= RANK_P95_MS and around_q[1] <= RANK_P95_MS
        lines.append(
            f"  {board:<13} {len(subjects):>9,} {top[0]:>6.2f} {top[1]:>6.2f}   "
            f"{rank_q[0]:>6.2f} {rank_q[1]:>6.2f}   {around_q[0]:>6.2f} {around_q[1]:>6.2f}  "
            f"{mark(ok)}"
        )
    size = raw.load_plain_table(windows["all_time"])
    scores = [r[0] for r in raw.query("SELECT score FROM raw_scores")]
    top10 = timed(
        lambda: raw.query("SELECT id, score FROM raw_scores ORDER BY score DESC LIMIT 10"), samples
    )
    picks = iter([rng.choice(scores) for _ in range(samples)])
    count = timed(
        lambda: raw.query("SELECT COUNT(*) FROM raw_scores WHERE score > ?", (next(picks),)),
        samples,
    )
    lines.append(
        f"  {'raw table':<13} {size:>9,} {top10[0]:>6.2f} {top10[1]:>6.2f}   "
        f"{count[0]:>6.2f} {count[1]:>6.2f}   (indexed top 10; rank by COUNT(*) WHERE score > x)"
    )
    raw.close()
    store.close()
    return lines


def bench_roll(url: str, key: str) -> list[str]:
    store = Store(make_engine(url))
    now = datetime.now(UTC)
    lines = []
    for label, when in (
        ("one day leaves", now + timedelta(days=1)),
        ("every day leaves", now + timedelta(days=31)),
    ):
        start = time.perf_counter()
        report = close_windows(store, key, clock=partial(_at, when))
        seconds = time.perf_counter() - start
        moved = sum(r.moved for r in report.rolled)
        lines.append(
            f"  roll-over, {label:<17} {moved:>9,} subjects moved in {seconds:6.2f} s "
            f"(with {len(report.closed)} weekly windows closed)  {mark(seconds <= ROLL_SECONDS)}"
        )
    store.close()
    return lines


def server_settings() -> str:
    """What governs PostgreSQL's writes here: boards are random writes, checkpoints matter."""
    with psycopg.connect(PG_URL) as db:
        shown = [
            f"{name} {db.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
            for name in ("shared_buffers", "max_wal_size", "checkpoint_timeout", "autovacuum")
        ]
    return ", ".join(shown)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--samples", type=int, default=500, help="timed calls per read")
    parser.add_argument(
        "--reads-only", action="store_true", help="load only the four-board database"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accolade-bench-lb-"))
    programs, key = write_programs(work)
    stream = work / "events.jsonl"
    write_stream(stream, args.events, args.members, args.days)
    print(
        f"stream: {args.events:,} events over {args.members:,} members in {args.days} days "
        f"({stream.stat().st_size / 2**20:.0f} MiB); boards: "
        + ", ".join(f"{b['key']} ({b.get('window', 'all')})" for b in BOARDS)
    )
    rng = random.Random(6)
    for backend in args.backends.split(","):
        rates = []
        for n, program in zip((0, 3, 4), programs, strict=True):
            if args.reads_only and n != 4:
                continue
            url, target = fresh(backend, work, f"boards-{n}")
            accolade("init", "--program-file", str(program), url=url)
            seconds, _ = accolade("ingest", str(stream), url=url)
            rates.append(args.events / seconds)
            if n != 4:
                drop(backend, target)
        print(f"\n{backend}")
        if backend == "postgresql":
            print(f"  server: {server_settings()}")
        if args.reads_only:
            print(f"  ingest: {rates[0]:,.0f} events/s with 4 boards (no ratio: --reads-only)")
        else:
            print(f"  ingest: {rates[0]:,.0f} events/s without leaderboards")
        for n, rate in zip((3, 4), rates[1:], strict=True) if not args.reads_only else ():
            ratio = rate / rates[0]
            target_text = (
                f"(target >= {INGEST_RATIO})  {mark(ratio >= INGEST_RATIO)}" if n == 3 else ""
            )
            print(
                f"          {rate:,.0f} events/s with {n} boards: ratio {ratio:.2f} {target_text}"
            )
        print(
            f"  {'reads (ms)':<13} {'ranked':>9} {'top 10':>13}   {'rank':>13}   "
            f"{'around-me k=5':>13}"
        )
        print(
            f"  {'':<13} {'':>9} {'p50':>6} {'p95':>6}   {'p50':>6} {'p95':>6}   {'p50':>6} {'p95':>6}"
        )
        for line in bench_reads(backend, url, target, key, args.samples, rng):
            print(line)
        for line in bench_roll(url, key):
            print(line)
        drop(backend, target)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
