"""Benchmark: `accolade ingest` events/s on SQLite and PostgreSQL, beside the raw storage rate.

    python bench/ingest.py [--events 200000] [--members 10000] [--backends sqlite,postgresql]

For each backend it runs the real command (`accolade ingest FILE`, a subprocess, start-up
included) on a fresh database, then measures in the same run the raw rate of that database
writing rows through the bare driver, in one transaction, as events/s:
- same rows: exactly the rows the ingest wrote (its log rows, ledger entries and badge rows,
  read back) into a fresh Accolade schema with its indexes, plus one balance update per
  member (a batched writer's minimum); sqlite3 executemany, psycopg COPY + pipelined
  executemany. (One update per event is pathological on PostgreSQL in one transaction:
  every update of a row adds a version the transaction cannot prune.)
- bare bulk: bare ledger rows (7 columns, no secondary index) and one balance update per event;
- bare rmw (SQLite): an event at a time, select the balance, update it, insert its ledger rows.
It prints the rates, the ingest's ratio to each, and the ingest's peak memory, then whether
issue 26's targets are met: at least 0.5 of the same-rows rate, and at least 30,000 events/s on
SQLite and 15,000 on PostgreSQL.

Then, per backend, the same stream through the same command on a fresh database whose program is
the demo program plus every progression mechanic (bench/progression.py: 5 quests, 3 challenges
open during the stream, a daily streak, the four lifecycle stages), beside the demo program's
rate from this run (target: at least 0.7 of it). --no-progression skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from progression import write_progression_program
from psycopg.types.json import Jsonb

from accolade.sample_events import generate_events

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "examples" / "partner-program.yaml"
PG_URL = os.environ.get("ACCOLADE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def accolade(*args: str, url: str) -> tuple[float, int]:
    """Run the CLI; wall seconds and the child's peak RSS in MiB."""
    env = {**os.environ, "ACCOLADE_DATABASE_URL": url}
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: the progress bar never blocks
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "accolade.cli", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            sys.exit(f"accolade {' '.join(args)} failed:\n{errors.read().decode()}")
    return seconds, usage.ru_maxrss // 1024


def write_stream(path: Path, events: int, members: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for event in generate_events(events, members, seed=2026):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


def _raw_sqlite_db(path: Path, members: int) -> sqlite3.Connection:
    """A fresh SQLite file set up as Accolade sets it up, with a bare ledger and balances."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE raw_members (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE raw_ledger (id INTEGER PRIMARY KEY, member_id INTEGER, event_id INTEGER, "
        "kind TEXT, rule TEXT, points INTEGER, reason TEXT, occurred_at TEXT)"
    )
    db.executemany("INSERT INTO raw_members VALUES (?, 0)", [(i,) for i in range(members)])
    return db


def raw_sqlite(path: Path, events: int, entries: int, members: int) -> float:
    """Bare sqlite3: `entries` ledger rows + `events` balance updates in one transaction."""
    db = _raw_sqlite_db(path, members)
    rows, updates = _rows(events, entries, members)
    start = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO raw_ledger (member_id, event_id, kind, rule, points, reason, occurred_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.executemany("UPDATE raw_members SET balance = balance + ? WHERE id = ?", updates)
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return events / seconds


def raw_sqlite_rmw(path: Path, events: int, entries: int, members: int) -> float:
    """Bare sqlite3, an event at a time: select the balance, update it, insert its ledger rows."""
    db = _raw_sqlite_db(path, members)
    rows, _ = _rows(events, entries, members)
    per_event = max(1, round(entries / events))
    start = time.perf_counter()
    db.execute("BEGIN")
    for n in range(events):
        member = n % members
        (balance,) = db.execute(
            "SELECT balance FROM raw_members WHERE id = ?", (member,)
        ).fetchone()
        db.execute("UPDATE raw_members SET balance = ? WHERE id = ?", (balance + 10, member))
        for row in rows[n * per_event : (n + 1) * per_event]:
            db.execute(
                "INSERT INTO raw_ledger (member_id, event_id, kind, rule, points, reason, occurred_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return events / seconds


def raw_postgres(schema: str, events: int, entries: int, members: int) -> float:
    """Bare psycopg: ledger rows by COPY + balance updates by pipelined executemany, one transaction."""
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as db:
        db.execute("CREATE TABLE raw_members (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)")
        db.execute(
            "CREATE TABLE raw_ledger (id BIGSERIAL PRIMARY KEY, member_id BIGINT, event_id BIGINT, kind TEXT, "
            "rule TEXT, points BIGINT, reason TEXT, occurred_at TIMESTAMPTZ)"
        )
        with db.cursor() as cur:
            cur.executemany(
                "INSERT INTO raw_members VALUES (%s, 0)", [(i,) for i in range(members)]
            )
        db.commit()
        rows, updates = _rows(events, entries, members, as_time=True)
        start = time.perf_counter()
        with db.cursor() as cur:
            with cur.copy(
                "COPY raw_ledger (member_id, event_id, kind, rule, points, reason, occurred_at) "
                "FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.executemany("UPDATE raw_members SET balance = balance + %s WHERE id = %s", updates)
        db.commit()
        return events / (time.perf_counter() - start)


def _rows(
    events: int, entries: int, members: int, as_time: bool = False
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    now = datetime.now(UTC)
    when: object = now if as_time else now.isoformat(sep=" ")
    rows = [
        (i % members, i % events, "earn", "action:video_watched", 10, "10 points", when)
        for i in range(entries)
    ]
    updates = [(10, i % members) for i in range(events)]
    return rows, updates


_TABLES = ("events", "ledger_entries", "member_badges")


def same_rows_sqlite(source: str, fresh_url: str, target: str, events: int) -> float:
    """The rows the ingest wrote, written again by bare sqlite3 into a fresh Accolade schema."""
    accolade("init", "--program-file", str(PROGRAM), url=fresh_url)
    with sqlite3.connect(source) as db:
        tables = {t: _read(db.execute(f"SELECT * FROM {t}")) for t in _TABLES}
        updates = db.execute("SELECT count(*), member_id FROM events GROUP BY member_id").fetchall()
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA cache_size=-65536")
    with sqlite3.connect(source) as src:
        db.executemany(
            "INSERT OR IGNORE INTO members VALUES (" + ", ".join("?" * _width(src)) + ")",
            src.execute("SELECT * FROM members").fetchall(),
        )
    start = time.perf_counter()
    db.execute("BEGIN")
    for table, (names, rows) in tables.items():
        marks = ", ".join("?" for _ in names)
        db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
    db.executemany("UPDATE members SET balance = balance + ? WHERE id = ?", updates)
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return events / seconds


def _width(db: sqlite3.Connection) -> int:
    return len(db.execute("SELECT * FROM members LIMIT 1").description)


def _read(cursor: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    rows = cursor.fetchall()
    return [d[0] for d in cursor.description], rows


def same_rows_postgres(source: str, events: int) -> float:
    """The rows the ingest wrote, written again by bare psycopg into a fresh Accolade schema."""
    fresh = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {fresh}")
    try:
        accolade("init", "--program-file", str(PROGRAM), url=_pg_url(fresh))
        with psycopg.connect(PG_URL, options=f"-csearch_path={source}") as db:
            tables = {t: _read(db.execute(f"SELECT * FROM {t}")) for t in _TABLES}
            members = _read(db.execute("SELECT * FROM members"))
            updates = db.execute(
                "SELECT count(*), member_id FROM events GROUP BY member_id"
            ).fetchall()
        with psycopg.connect(PG_URL, options=f"-csearch_path={fresh}") as db:
            with (
                db.cursor() as cur,
                cur.copy(f"COPY members ({', '.join(members[0])}) FROM STDIN") as copy,
            ):
                for row in members[1]:
                    copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in row])
            db.commit()
            start = time.perf_counter()
            with db.cursor() as cur:
                for table, (names, rows) in tables.items():
                    with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                cur.executemany("UPDATE members SET balance = balance + %s WHERE id = %s", updates)
            db.commit()
            return events / (time.perf_counter() - start)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {fresh} CASCADE")


def _pg_url(schema: str) -> str:
    return (
        PG_URL.replace("postgresql://", "postgresql+psycopg://")
        + f"?options=-csearch_path%3D{schema}"
    )


def count_entries(url_kind: str, target: str) -> int:
    if url_kind == "sqlite":
        with sqlite3.connect(target) as db:
            return int(db.execute("SELECT count(*) FROM ledger_entries").fetchone()[0])
    with psycopg.connect(PG_URL, options=f"-csearch_path={target}") as db:
        row = db.execute("SELECT count(*) FROM ledger_entries").fetchone()
        assert row is not None
        return int(row[0])


PROGRESSION_RATIO = 0.7  # of the demo program's ingest rate, on the same stream
# Issue 26's targets: the ingest at half its database's rate writing the same rows, and a floor
# in events/s per backend (one process).
SAME_ROWS_RATIO = 0.5
TARGET_RATE = {"sqlite": 30_000, "postgresql": 15_000}


def _fresh(backend: str, sqlite_path: Path) -> tuple[str, str]:
    """(URL, target) of a new empty database: a SQLite file or a PostgreSQL schema."""
    if backend == "sqlite":
        return f"sqlite:///{sqlite_path}", str(sqlite_path)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    return _pg_url(schema), schema


def analyze(backend: str, target: str) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or `ANALYZE` would leave them."""
    if backend == "sqlite":
        with sqlite3.connect(target) as db:
            db.execute("ANALYZE")
        return
    with psycopg.connect(PG_URL, options=f"-csearch_path={target}", autocommit=True) as db:
        db.execute("VACUUM ANALYZE")


def _verdict(backend: str, rate: float, same: float) -> str:
    """Whether the ingest met both targets on ``backend``, each with its figure."""
    floor = TARGET_RATE[backend]
    ratio_ok = "✓" if rate / same >= SAME_ROWS_RATIO else "✗"
    rate_ok = "✓" if rate >= floor else "✗"
    return (
        f"{backend:<11} ratio {rate / same:.2f} >= {SAME_ROWS_RATIO} {ratio_ok}   "
        f"{rate:,.0f} >= {floor:,} events/s {rate_ok}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--no-progression", action="store_true", help="skip the progression-program run"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accolade-bench-"))
    stream = work / "events.jsonl"
    write_stream(stream, args.events, args.members)
    print(
        f"stream: {args.events:,} events over {args.members:,} members ({stream.stat().st_size / 2**20:.0f} MiB)"
    )
    print(
        f"{'backend':<11} {'ingest ev/s':>12} {'same rows':>10} {'ratio':>6} {'bare bulk':>10} "
        f"{'ratio':>6} {'bare rmw':>9} {'ratio':>6} {'peak RSS':>9}"
    )
    backends = args.backends.split(",")
    progression = write_progression_program(work / "progression.yaml")
    with_progression: dict[str, tuple[float, int]] = {}
    progression_targets: list[tuple[str, str]] = []
    targets: dict[str, str] = {}
    ingested: dict[str, tuple[float, int]] = {}
    verdicts: list[str] = []
    try:
        # Every ingest runs before any raw measurement: a child's peak RSS counts the pages of
        # the parent it was spawned from, and the raw runs hold whole tables in memory.
        for backend in backends:
            if backend == "sqlite":
                targets[backend] = str(work / "bench.db")
                url = f"sqlite:///{targets[backend]}"
            else:
                targets[backend] = f"bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(f"CREATE SCHEMA {targets[backend]}")
                url = _pg_url(targets[backend])
            accolade("init", "--program-file", str(PROGRAM), url=url)
            seconds, peak = accolade("ingest", str(stream), url=url)
            ingested[backend] = (args.events / seconds, peak)
            if not args.no_progression:
                url, target = _fresh(backend, work / "progression.db")
                progression_targets.append((backend, target))
                accolade("init", "--program-file", str(progression), url=url)
                seconds, peak = accolade("ingest", str(stream), url=url)
                with_progression[backend] = (args.events / seconds, peak)
        for backend in backends:
            target = targets[backend]
            rate, peak = ingested[backend]
            entries = count_entries(backend, target)
            if backend == "sqlite":
                same = same_rows_sqlite(
                    target, f"sqlite:///{work / 'same.db'}", str(work / "same.db"), args.events
                )
                raw = raw_sqlite(work / "raw.db", args.events, entries, args.members)
                rmw = raw_sqlite_rmw(work / "rmw.db", args.events, entries, args.members)
                rmw_text = f"{rmw:>9,.0f} {rate / rmw:>6.2f}"
            else:
                same = same_rows_postgres(target, args.events)
                raw = raw_postgres(target, args.events, entries, args.members)
                rmw_text = (
                    f"{'-':>9} {'-':>6}"  # a round trip per statement: not a limit to compare
                )
            print(
                f"{backend:<11} {rate:>12,.0f} {same:>10,.0f} {rate / same:>6.2f} "
                f"{raw:>10,.0f} {rate / raw:>6.2f} {rmw_text} {peak:>6} MiB"
            )
            verdicts.append(_verdict(backend, rate, same))
        print("\ntargets (issue 26):")
        for line in verdicts:
            print(line)
        if with_progression:
            print(
                f"\n{'backend':<11} {'demo ev/s':>10} {'progression':>12} {'ratio':>6}  target ≥ "
                f"{PROGRESSION_RATIO}   (5 quests, 3 challenges, a streak, 4 stages)"
            )
            for backend, (rate, peak) in with_progression.items():
                demo = ingested[backend][0]
                ok = "✓" if rate / demo >= PROGRESSION_RATIO else "✗"
                print(
                    f"{backend:<11} {demo:>10,.0f} {rate:>12,.0f} {rate / demo:>6.2f}  {ok}"
                    f"   peak RSS {peak} MiB"
                )
    finally:
        for backend, target in progression_targets:
            if backend != "sqlite":
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(f"DROP SCHEMA {target} CASCADE")
        for backend, target in targets.items():
            if backend != "sqlite":
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(f"DROP SCHEMA {target} CASCADE")


if __name__ == "__main__":
    main()
