"""Benchmark: redemptions under concurrent clients, on SQLite and PostgreSQL.

    python bench/redeem.py [--members 2000] [--redemptions 4000] [--clients 8]
                           [--advocates 100000] [--samples 300] [--backends sqlite,postgresql]

Per backend, on a fresh database: a program whose catalogue has one popular item (70% of the
redemptions go to it, so its stock row is contended) and 20 others, each with a stock; members
with points to spend. Then:
1. `--clients` threads, each on its own connection, redeem through the service
   (`accolade.service.rewards.redeem`: member lock, eligibility, limit, balance, stock, the
   redemption row, its log row and ledger entry, the balance, the webhook outbox check) for
   random members; redemptions/s over the whole run;
2. the raw database, from the same run: the same transaction shape written by hand on the driver
   (lock the member, look the id up, take a unit of stock, insert the redemption, its log row
   and its ledger entry, update the balance, read the redemption back), the same threads and
   mix, on the same tables.
Both runs end with the sums checked: no balance below zero, no item past its stock.
3. reference matching: `--advocates` members with an industry, a region, a company size and a
   product (loaded through ingest), and a year of asks (a tenth of them asked, some twice);
   p50/p95 over `--samples` requests of `accolade.service.references.match` (two to three
   criteria, five candidates, limits of 1 per 30 days and 4 per year) (target: p95 <= 50 ms);
   beside it, from the same run, the raw database finding the same members by a scan of their
   JSON attributes, without the facet index.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from ingest import PG_URL, _fresh

from accolade.service import references, rewards
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.store.tables import reference_asks
from accolade.store.unit_of_work import Store

ITEMS = 20
PRICE = 10
PROGRAM = f"""
key: shop
name: Bench shop
actions:
  - {{key: grant, event: points.granted, points_from: {{property: points, per: 1}}}}
rewards:
  - {{key: popular, name: Popular, price: {PRICE}, stock: 100000000}}
""" + "".join(
    f"  - {{key: item_{i}, name: Item {i}, price: {PRICE}, stock: 100000000}}\n"
    for i in range(ITEMS)
)


def pick(rng: random.Random, members: int) -> tuple[str, str]:
    member = f"m{rng.randrange(members)}"
    item = "popular" if rng.random() < 0.7 else f"item_{rng.randrange(ITEMS)}"
    return member, item


def in_threads(clients: int, per_client: int, work: Callable[[int, random.Random], None]) -> float:
    """Redemptions/s of ``clients`` threads doing ``per_client`` each, started together."""
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        rng = random.Random(n)
        barrier.wait()
        try:
            for _ in range(per_client):
                work(n, rng)
        except BaseException as exc:  # reported below: a failed client fails the bench
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if failures:
        raise failures[0]
    return clients * per_client / seconds


def setup(url: str, members: int, clients: int) -> Store:
    store = Store.open(url, pool_size=clients + 2)
    publish(store, PROGRAM)
    now = datetime.now(UTC)
    grants = [
        {
            "id": f"grant-{m}",
            "type": "points.granted",
            "member": f"m{m}",
            "occurred_at": (now - timedelta(days=1)).isoformat(),
            "properties": {"points": 1_000_000},
        }
        for m in range(members)
    ]
    for start in range(0, members, 1000):
        ingest_batch(store, "shop", list(enumerate(grants[start : start + 1000], 1)))
    return store


def through_service(store: Store, members: int, clients: int, per_client: int) -> float:
    def work(_n: int, rng: random.Random) -> None:
        member, item = pick(rng, members)
        rewards.redeem(store, "shop", member, item)

    return in_threads(clients, per_client, work)


# the raw database: the same transaction shape, by hand -------------------------------------


def raw_postgres(schema: str, members: int, clients: int, per_client: int) -> float:
    conns = [
        psycopg.connect(PG_URL, options=f"-csearch_path={schema}", autocommit=False)
        for _ in range(clients)
    ]
    row = conns[0].execute("SELECT id FROM programs WHERE key = 'shop'").fetchone()
    assert row is not None
    program_id = row[0]
    conns[0].rollback()

    def work(n: int, rng: random.Random) -> None:
        member, item = pick(rng, members)
        db = conns[n]
        with db.transaction():
            _raw_redemption(db, "%s", program_id, member, item)

    try:
        return in_threads(clients, per_client, work)
    finally:
        for c in conns:
            c.close()


def raw_sqlite(path: str, members: int, clients: int, per_client: int) -> float:
    conns = []
    for _ in range(clients):
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        conns.append(db)
    program_id = conns[0].execute("SELECT id FROM programs WHERE key = 'shop'").fetchone()[0]
    writer = threading.Lock()  # as the store does: threads of one process queue for the lock

    def work(n: int, rng: random.Random) -> None:
        member, item = pick(rng, members)
        db = conns[n]
        with writer:
            db.execute("BEGIN IMMEDIATE")
            try:
                _raw_redemption(db, "?", program_id, member, item)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    try:
        return in_threads(clients, per_client, work)
    finally:
        for c in conns:
            c.close()


def _raw_redemption(db: Any, m: str, program_id: int, member: str, item: str) -> None:
    lock = " FOR UPDATE" if m == "%s" else ""
    member_id, balance = db.execute(
        f"SELECT id, balance FROM members WHERE program_id = {m} AND external_id = {m}{lock}",
        (program_id, member),
    ).fetchone()
    rid = f"raw_{uuid.uuid4().hex}"
    db.execute(
        f"SELECT id FROM redemptions WHERE program_id = {m} AND redemption_id = {m}",
        (program_id, rid),
    ).fetchall()
    if balance < PRICE:
        return
    db.execute(
        f"INSERT INTO reward_stock (program_id, reward, taken) VALUES ({m}, {m}, 0) "
        "ON CONFLICT DO NOTHING",
        (program_id, item),
    )
    taken = db.execute(
        f"UPDATE reward_stock SET taken = taken + 1 WHERE program_id = {m} AND reward = {m} "
        f"AND taken < {m}",
        (program_id, item, 100_000_000),
    )
    if taken.rowcount != 1:
        return
    now = datetime.now(UTC)
    stamp: Any = now if m == "%s" else now.replace(tzinfo=None).isoformat(" ")
    pk = db.execute(
        "INSERT INTO redemptions (program_id, redemption_id, member_id, reward, price, "
        "fulfilment, status, stock_taken, program_version, requested_at, updated_at) "
        f"VALUES ({m}, {m}, {m}, {m}, {m}, 'manual', 'approved', TRUE, 1, {m}, {m}) RETURNING id",
        (program_id, rid, member_id, item, PRICE, stamp, stamp),
    ).fetchone()[0]
    body = json.dumps({"redemption_id": rid, "reward": item, "points": -PRICE})
    log = db.execute(
        "INSERT INTO events (program_id, kind, event_id, type, member_id, occurred_at, "
        "received_at, program_version, schema_version, body_hash, body, status) "
        f"VALUES ({m}, 'redemption', {m}, 'reward.redemption', {m}, {m}, {m}, 1, 1, {m}, {m}, "
        "'accepted') RETURNING id",
        (program_id, rid, member_id, stamp, stamp, uuid.uuid4().hex, body),
    ).fetchone()[0]
    db.execute(
        "INSERT INTO ledger_entries (program_id, member_id, event_id, cause_id, kind, rule, "
        "period, points, lifetime_points, program_version, reason, occurred_at, recorded_at) "
        f"VALUES ({m}, {m}, {m}, {m}, 'redemption', {m}, '', {m}, 0, 1, {m}, {m}, {m})",
        (
            program_id,
            member_id,
            log,
            log,
            f"reward:{item}",
            -PRICE,
            f"redeemed {item}",
            stamp,
            stamp,
        ),
    )
    db.execute(
        f"UPDATE members SET balance = balance - {m}, revision = revision + 1, updated_at = {m} "
        f"WHERE id = {m}",
        (PRICE, stamp, member_id),
    )
    db.execute(
        f"SELECT * FROM redemptions JOIN members ON members.id = redemptions.member_id "
        f"WHERE redemptions.id = {m}",
        (pk,),
    ).fetchall()


def check_sums(store: Store) -> int:
    """Redemptions held; fails when a balance went below zero or an item past its stock."""
    with store.engine.connect() as conn:
        negative = conn.exec_driver_sql("SELECT count(*) FROM members WHERE balance < 0").scalar()
        held = conn.exec_driver_sql("SELECT count(*) FROM redemptions").scalar()
        taken = conn.exec_driver_sql("SELECT COALESCE(SUM(taken), 0) FROM reward_stock").scalar()
    if negative or held != taken:
        sys.exit(f"sums broken: {negative} negative balances, {held} redemptions, {taken} taken")
    return int(held or 0)


INDUSTRIES = [
    "fintech",
    "health",
    "retail",
    "manufacturing",
    "saas",
    "public",
    "education",
    "media",
]
REGIONS = ["EMEA", "NA", "APAC", "LATAM"]
SIZES = ["1-49", "50-249", "250-999", "1000-4999", "5000+"]
PRODUCTS = ["core", "pro", "analytics"]
MATCH_P95_MS = 50.0
REFERENCES = """
key: refs
name: Bench references
tiers:
  - {key: bronze, name: Bronze, min_points: 0}
  - {key: gold, name: Gold, min_points: 500}
actions:
  - {key: joined, event: joined, points_from: {property: points, per: 1}}
references:
  match: [industry, region, company_size, product]
  limits:
    - {count: 1, within: 30d}
    - {count: 4, within: 365d}
"""


ADVOCATE_TABLES = ("members", "member_facets", "reference_asks")


def setup_advocates(url: str, advocates: int) -> Store:
    store = Store.open(url)
    publish(store, REFERENCES)
    rng = random.Random(7)
    now = datetime.now(UTC)
    for start in range(0, advocates, 2000):
        batch = [
            {
                "id": f"joined-{m}",
                "type": "joined",
                "member": f"a{m}",
                "occurred_at": (now - timedelta(days=400)).isoformat(),
                "properties": {"points": rng.choice([10, 100, 1000])},
                "attributes": {
                    "industry": rng.choice(INDUSTRIES),
                    "region": rng.choice(REGIONS),
                    "company_size": rng.choice(SIZES),
                    "product": rng.choice(PRODUCTS),
                    "name": f"Advocate {m}",
                },
            }
            for m in range(start, min(start + 2000, advocates))
        ]
        ingest_batch(store, "refs", list(enumerate(batch, 1)))
    # a year of asks: a tenth of the advocates asked once, on a random day
    with store.transaction() as uow:
        program = uow.programs.program_by_key("refs")
        assert program is not None
        program_id = program.id
        uow.references.insert_reference_request(
            {
                "program_id": program_id,
                "request_id": "history",
                "requested_by": "bench",
                "criteria": "{}",
                "created_at": now,
            }
        )
        request_pk = uow.references.reference_request(program_id, "history").id
    with store.engine.begin() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM members ORDER BY id")]
        asked = rng.sample(ids, len(ids) // 10)
        rows = [
            {
                "program_id": program_id,
                "request_id": request_pk,
                "member_id": member_id,
                "status": "completed",
                "asked_at": now - timedelta(days=rng.randrange(1, 365)),
                "updated_at": now,
            }
            for member_id in asked
        ]
        conn.execute(reference_asks.insert(), rows)
    return store


def time_matches(store: Store, samples: int) -> list[float]:
    rng = random.Random(11)
    out = []
    for i in range(samples):
        criteria: dict[str, object] = {
            "industry": rng.choice(INDUSTRIES),
            "region": rng.choice(REGIONS),
        }
        if i % 3 == 0:
            criteria["product"] = rng.sample(PRODUCTS, 2)
        if i % 4 == 0:
            criteria["tier"] = "gold"
        start = time.perf_counter()
        references.match(store, "refs", criteria, count=5, seed=str(i))
        out.append((time.perf_counter() - start) * 1000)
    return out


def time_raw_scan(store: Store, samples: int) -> list[float]:
    """The same candidates found by reading every member's JSON attributes (no index)."""
    rng = random.Random(11)
    get = "json_extract(attributes, '$.{0}')" if store.dialect == "sqlite" else "attributes->>'{0}'"
    m = "?" if store.dialect == "sqlite" else "%s"
    out = []
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for _ in range(samples):
            industry, region = rng.choice(INDUSTRIES), rng.choice(REGIONS)
            start = time.perf_counter()
            # every match, as ranking needs them all (the index's query ranks in SQL too)
            cursor.execute(
                f"SELECT id FROM members WHERE {get.format('industry')} = {m} "
                f"AND {get.format('region')} = {m}",
                (industry, region),
            )
            cursor.fetchall()
            out.append((time.perf_counter() - start) * 1000)
        raw.rollback()
    finally:
        raw.close()
    return out


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--redemptions", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--advocates", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    per_client = max(1, args.redemptions // args.clients)
    print(
        f"{args.clients} clients x {per_client} redemptions over {args.members:,} members; "
        f"70% on one popular item, the rest over {ITEMS}"
    )
    with tempfile.TemporaryDirectory(prefix="accolade-bench-redeem-") as tmp:
        for backend in args.backends.split(","):
            url, target = _fresh(backend, Path(tmp) / "redeem.db")
            store = setup(url, args.members, args.clients)
            service = through_service(store, args.members, args.clients, per_client)
            held = check_sums(store)
            raw = (raw_sqlite if backend == "sqlite" else raw_postgres)(
                target, args.members, args.clients, per_client
            )
            total = check_sums(store)
            store.close()
            print(f"\n{backend}")
            print(f"  service  {service:8,.0f} redemptions/s ({held:,} held)")
            print(
                f"  raw      {raw:8,.0f} redemptions/s ({total - held:,} held): the same "
                "transaction shape by hand"
            )
            print(f"  ratio    {service / raw:8.2f}")
            if backend == "postgresql":
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(f"DROP SCHEMA {target} CASCADE")
            url, target = _fresh(backend, Path(tmp) / "references.db")
            store = setup_advocates(url, args.advocates)
            if backend == "postgresql":
                # as autovacuum would after the load (this server runs with it off): statistics
                # for the planner, and the visibility map that lets index-only scans skip the
                # table. Outside a transaction: an ANALYZE in one that is rolled back is lost.
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(
                        "VACUUM ANALYZE " + ", ".join(f"{target}.{t}" for t in ADVOCATE_TABLES)
                    )
            matched = percentiles(time_matches(store, args.samples))
            scanned = percentiles(time_raw_scan(store, args.samples))
            store.close()
            mark = "✓" if matched[1] <= MATCH_P95_MS else "✗"
            print(
                f"  reference match over {args.advocates:,} advocates: p50 {matched[0]:.1f} ms, "
                f"p95 {matched[1]:.1f} ms (target <= {MATCH_P95_MS:.0f})  {mark}"
            )
            print(
                f"  raw scan of the members' JSON attributes: p50 {scanned[0]:.1f} ms, "
                f"p95 {scanned[1]:.1f} ms"
            )
            if backend == "postgresql":
                with psycopg.connect(PG_URL, autocommit=True) as admin:
                    admin.execute(f"DROP SCHEMA {target} CASCADE")


if __name__ == "__main__":
    main()
