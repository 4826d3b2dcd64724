"""Benchmark: `accolade ingest` of completed assessments, beside the demo program's rate.

    python bench/assessments.py [--leads 100000] [--backends sqlite,postgresql]

Each lead takes examples/readiness-assessment.yaml end to end: `assessment.started`, an
`assessment.answered` per question it reaches (the warehouse section skipped for a third of
them) and `assessment.completed`, so every lead's last event scores the answers, stores the
result and (a subscription wanting `lead.assessed`) writes its outbox message. About 12 events
a lead. The same command then ingests as many events of the demo stream (examples/
partner-program.yaml, accolade.sample_events) on a fresh database: the assessment rate in
events/s is compared with it (target: at least 0.7 of it), and completions/s are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from accolade.sample_events import generate_events

ROOT = Path(__file__).resolve().parents[1]
ASSESSMENT = ROOT / "examples" / "readiness-assessment.yaml"
DEMO = ROOT / "examples" / "partner-program.yaml"
PG_URL = os.environ.get("ACCOLADE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
KEY = "data_readiness"


def lead_events(n: int, rng: random.Random, at: datetime) -> list[dict[str, Any]]:
    """One lead's events, started to completed."""
    lead = f"lead-{n:07d}"
    truth = rng.choice(["warehouse", "warehouse", "spreadsheets", "scattered"])
    answers: list[tuple[str, Any]] = [
        ("source_count", rng.choice([1, 2, 4, 6, 9, 12, 25, 40])),
        ("source_of_truth", truth),
        ("data_quality", rng.randint(1, 5)),
    ]
    if truth == "warehouse":
        answers.append(("warehouse_platform", rng.choice(["snowflake", "bigquery", "other"])))
        answers.append(("pipelines", rng.sample(["etl_tool", "custom_scripts", "reverse_etl"], 2)))
    answers += [
        ("team_size", rng.choice([0, 1, 3, 6, 12, 30])),
        ("exec_sponsor", rng.choice(["yes", "no"])),
        ("use_cases", rng.sample(["reporting", "personalisation", "ai", "compliance"], 2)),
        ("timeline", rng.choice(["this_quarter", "two_quarters", "this_year", "exploring"])),
        ("budget", rng.choice(["approved", "planned", "none"])),
        ("role", rng.choice(["data_leader", "engineer", "analyst", "business"])),
    ]
    stamp = at.isoformat().replace("+00:00", "Z")
    out = [_event(f"{lead}-s", "assessment.started", lead, stamp, {"assessment": KEY})]
    for question, answer in answers:
        props = {"answer": answer, "assessment": KEY, "question": question}
        out.append(_event(f"{lead}-{question}", "assessment.answered", lead, stamp, props))
    out.append(_event(f"{lead}-d", "assessment.completed", lead, stamp, {"assessment": KEY}))
    return out


def _event(id: str, type: str, lead: str, at: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"id": id, "type": type, "member": lead, "occurred_at": at, "properties": props}


def write_assessments(path: Path, leads: int) -> int:
    """The leads' events, a lead after another; the number of events."""
    rng = random.Random(2026)
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for n in range(leads):
            for event in lead_events(n, rng, start + timedelta(seconds=n)):
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
                count += 1
    return count


def write_demo(path: Path, events: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for event in generate_events(events, max(events // 20, 100), seed=2026):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


def accolade(*args: str, url: str) -> float:
    env = {**os.environ, "ACCOLADE_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "accolade.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"accolade {' '.join(args)} failed:\n{done.stderr.decode()}")
    return time.perf_counter() - start


def subscribe(url: str) -> None:
    """A subscription wanting lead.assessed, so that each completion writes its message."""
    code = (
        "from accolade.service.webhooks import subscribe\n"
        "from accolade.store.unit_of_work import Store\n"
        f"subscribe(Store.open({url!r}), 'readiness', 'http://127.0.0.1:9/hook', "
        "['lead.assessed'])\n"
    )
    env = {**os.environ, "ACCOLADE_DATABASE_URL": url}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def fresh(backend: str, folder: Path) -> tuple[str, str | None]:
    """A database URL, and the PostgreSQL schema to drop afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{url}?options=-csearch_path%3D{schema}", schema


def drop(schema: str | None) -> None:
    if schema is not None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def run(backend: str, folder: Path, program: Path, key: str, stream: Path, hooks: bool) -> float:
    url, schema = fresh(backend, folder)
    try:
        accolade("program", "publish", str(program), url=url)
        if hooks:
            subscribe(url)
        return accolade("ingest", str(stream), "-p", key, url=url)
    finally:
        drop(schema)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assessments = folder / "assessments.jsonl"
        events = write_assessments(assessments, args.leads)
        demo = folder / "demo.jsonl"
        write_demo(demo, events)
        print(f"{args.leads:,} leads, {events:,} events ({events / args.leads:.1f} a lead)")
        for backend in args.backends.split(","):
            seconds = run(backend, folder, ASSESSMENT, "readiness", assessments, hooks=True)
            demo_seconds = run(backend, folder, DEMO, "partner", demo, hooks=False)
            rate, demo_rate = events / seconds, events / demo_seconds
            ratio = rate / demo_rate
            mark = "✓" if ratio >= 0.7 else "✗"
            print(
                f"{backend}: assessments {rate:,.0f} events/s ({args.leads / seconds:,.0f} "
                f"completions/s), demo program {demo_rate:,.0f} events/s: {ratio:.2f} of it "
                f"{mark} (target 0.7)"
            )


if __name__ == "__main__":
    main()
