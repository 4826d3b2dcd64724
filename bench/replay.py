"""Benchmark: `accolade replay` of a long event log on SQLite (target: 1,000,000 events < 60 s),
and `accolade program simulate` of the same log.

    python bench/replay.py [--events 1000000] [--members 10000] [--url sqlite:///...]

Builds the log once with `accolade ingest` (not timed here; bench/ingest.py times that), then
times `accolade replay` (a subprocess, start-up included), and beside it the raw rate of the
same database rewriting the same rows: deleting the ledger and inserting as many ledger rows
as replay writes, plus one balance update per event, in one transaction through sqlite3.
Then it times `accolade program simulate` of the same log under the same program (a subprocess
too), beside replay's rate (target: at least 0.7 of it).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from ingest import PROGRAM, accolade, raw_sqlite, write_stream


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accolade-replay-"))
    stream = work / "events.jsonl"
    write_stream(stream, args.events, args.members)
    db = work / "replay.db"
    url = f"sqlite:///{db}"
    accolade("init", "--program-file", str(PROGRAM), url=url)
    built, _ = accolade("ingest", str(stream), url=url)
    print(f"log: {args.events:,} events over {args.members:,} members (ingested in {built:.0f} s)")
    seconds, peak = accolade("replay", url=url)
    with sqlite3.connect(db) as conn:
        entries = int(conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0])
    raw = raw_sqlite(work / "raw.db", args.events, entries, args.members)
    rate = args.events / seconds
    print(
        f"replay: {seconds:.1f} s = {rate:,.0f} events/s (target: 1,000,000 in < 60 s); peak RSS {peak} MiB"
    )
    print(f"raw sqlite, same rows: {raw:,.0f} events/s; ratio {rate / raw:.2f}")
    seconds, peak = accolade("program", "simulate", str(PROGRAM), url=url)
    simulated = args.events / seconds
    print(
        f"program simulate (same log, same program): {seconds:.1f} s = {simulated:,.0f} events/s; "
        f"peak RSS {peak} MiB; ratio to replay {simulated / rate:.2f} (target: >= 0.7)"
    )


if __name__ == "__main__":
    main()
