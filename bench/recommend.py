"""Benchmark: next best actions on a generated history with a planted preference.

    python bench/recommend.py [--members 100000] [--events 1000000] [--runs 500] [--seed 7]

Targets (issue 25): precision@3 of the model above the rule-based prior and "most popular" on a
time split; one member's list <= 20 ms p95 with 100k members; training on 1M events < 2 min.

The history: members of role A submit stories most weeks, role B refer leads, role C attend
webinars; everyone does the rest now and then, over 140 days from 2026-01-05. Each member's
state is what the engine records for these uncapped actions (their rewarded occurrences), and
is written to a fresh SQLite database in bulk, so the measured paths are the real ones:
`service.recommend_training.train` (reads every member's state, samples, fits, stores the model and
its precision@3 on the latest 20% of sampled times) and `service.recommend.next_actions` (reads
the member, their dismissals and the model id, ranks). Beside the list's p95, the raw figure:
the bare driver reading that member's row by its id. The event log itself is not written
(training reads states, not the log), so the --events figure counts the occurrences in the
states.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from accolade.engine.state import MemberState
from accolade.service.programs import publish
from accolade.service.recommend import next_actions
from accolade.service.recommend_training import train
from accolade.store.database import make_engine, migrate
from accolade.store.tables import members as members_table
from accolade.store.unit_of_work import Store

PROGRAM = """
key: advocacy
name: Advocacy
actions:
  - {key: story, event: story.submitted, points: 50}
  - {key: referral, event: lead.referred, points: 50}
  - {key: webinar, event: webinar.attended, points: 50}
  - {key: review, event: review.posted, points: 50}
  - {key: login, event: login, points: 5}
challenges:
  - key: stories
    name: Share your win
    starts: 2026-01-01
    ends: 2027-12-31
    goal: {action: story, count: 100000}
    reward: {points: 50}
recommendations:
  exploration: 0
"""
START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 140
NOW = START + timedelta(days=DAYS)
PLANTED = {"A": "story", "B": "referral", "C": "webinar"}
BACKGROUND = {"story": 0.08, "referral": 0.08, "webinar": 0.12, "review": 0.2, "login": 0.52}


def states(members: int, events: int, seed: int) -> list[MemberState]:
    """Members with ``events`` rewarded occurrences in all: about half of each member's on
    their role's planted action, the rest drawn from the background mix."""
    rng = random.Random(seed)
    per = events / members
    actions, weights = zip(*BACKGROUND.items(), strict=True)
    start = int(START.timestamp())
    out = []
    for m in range(members):
        role = "ABC"[m % 3]
        n = max(1, round(rng.expovariate(1 / per)))
        chosen = [
            PLANTED[role] if rng.random() < 0.5 else rng.choices(actions, weights)[0]
            for _ in range(n)
        ]
        occurrences: dict[str, list[int]] = {}
        for action in chosen:
            occurrences.setdefault(action, []).append(start + rng.randrange(DAYS * 86_400))
        out.append(
            MemberState(
                f"m{m}",
                attributes={"role": role},
                lifetime=50 * n,
                balance=50 * n,
                occurrences={k: sorted(v) for k, v in occurrences.items()},
            )
        )
    return out


def build(path: Path, found: list[MemberState]) -> Store:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    store = Store(engine)
    publish(store, PROGRAM, clock=lambda: START)
    with store.transaction() as uow:
        program_id = uow.conn.exec_driver_sql("SELECT id FROM programs").scalar_one()
        for i in range(0, len(found), 20_000):
            uow.conn.execute(
                insert(members_table),
                [
                    {
                        "program_id": program_id,
                        "external_id": s.member,
                        "attributes": s.attributes,
                        "lifetime": s.lifetime,
                        "balance": s.balance,
                        "tier": None,
                        "progress": s.progress_json(),
                        "revision": 1,
                        "updated_at": NOW,
                    }
                    for s in found[i : i + 20_000]
                ],
            )
    return store


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    began = time.perf_counter()
    found = states(args.members, args.events, args.seed)
    occurrences = sum(len(o) for s in found for o in s.occurrences.values())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = build(path, found)
        print(
            f"history: {args.members:,} members, {occurrences:,} rewarded occurrences "
            f"(built in {time.perf_counter() - began:.1f} s)"
        )

        began = time.perf_counter()
        report = train(store, "advocacy", clock=lambda: NOW, seed=args.seed)
        trained = time.perf_counter() - began
        m = report.metrics
        print(
            f"training: {trained:.1f} s (target < 120 s) on {report.members:,} members, "
            f"{report.samples:,} sampled rows, {report.positives:,} positives; "
            f"modelled {', '.join(report.actions_modelled)}"
        )
        print(
            f"precision@3 on the latest 20% of times ({m.evaluated:,} rows): model {m.model:.3f}, "
            f"rule-based prior {m.rules:.3f}, most popular {m.popular:.3f}"
        )

        rng = random.Random(args.seed)
        picks = [f"m{rng.randrange(args.members)}" for _ in range(args.runs)]
        planted_first = 0
        timings = []
        next_actions(store, "advocacy", picks[0], clock=lambda: NOW)  # model parsed once
        for member in picks:
            began = time.perf_counter()
            ranked = next_actions(store, "advocacy", member, clock=lambda: NOW).recommendations
            timings.append((time.perf_counter() - began) * 1000)
            role = "ABC"[int(member[1:]) % 3]
            planted_first += bool(ranked) and ranked[0].action == PLANTED[role]
        raw = sqlite3.connect(path)
        raw_timings = []
        for member in picks:
            began = time.perf_counter()
            raw.execute(
                "SELECT * FROM members WHERE program_id = 1 AND external_id = ?", (member,)
            ).fetchone()
            raw_timings.append((time.perf_counter() - began) * 1000)
        raw.close()
        print(
            f"one member's list: p50 {statistics.median(timings):.2f} ms, "
            f"p95 {p95(timings):.2f} ms (target <= 20 ms) over {args.runs} members; "
            f"raw: the member's row by id p95 {p95(raw_timings):.3f} ms"
        )
        print(
            f"planted mechanic ranked first: {planted_first}/{args.runs} "
            f"({planted_first / args.runs:.0%})"
        )
        store.engine.dispose()


if __name__ == "__main__":
    main()
