"""Reference requests through the store: matching on the facet index, opt-outs, fatigue
limits, ranking that spreads asks, accepting and completing as actions, and the index kept
right through attribute changes, reversal, replay and a new version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.service import references as refs
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.tables import member_facets
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import clock_at, member_row

PROGRAM = (
    program_head("refs", "References")
    + """
stages:
  - {key: onboarding, name: Onboarding}
  - {key: mature, name: Mature, when: {lifetime_points: 500}}
actions:
  - {key: login, event: login, points: 1}
  - {key: big, event: big.deal, points: 1000}
  - {key: reference_accepted, event: reference.accepted, points: 50}
  - {key: reference_call, event: reference.completed, points: 300}
references:
  match: [industry, region]
  limits:
    - {count: 1, within: 30d}
    - {count: 2, within: 365d}
  segment:
    - {attribute: region, ne: embargoed}
"""
)
KEY = "refs"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def send(store: Store, *events: dict[str, Any], now: datetime = NOW) -> None:
    outcomes = ingest_batch(store, KEY, list(enumerate(events, 1)), clock=clock_at(now))
    assert all(o.status.value == "accepted" for o in outcomes), [o.result for o in outcomes]


def login(member: str, n: int = 0, **attributes: Any) -> dict[str, Any]:
    return {
        "id": f"login-{member}-{n}",
        "type": "login",
        "member": member,
        "occurred_at": (NOW - DAY).isoformat(),
        "attributes": attributes,
    }


@pytest.fixture
def pool(store: Store) -> Store:
    publish(store, PROGRAM, clock=clock_at(NOW - 400 * DAY))
    send(
        store,
        *(login(f"fin{i}", industry="fintech", region="EMEA", name=f"Fin {i}") for i in range(6)),
        login("us1", industry="fintech", region="NA"),
        login("health1", industry="health", region="EMEA"),
        login("quiet", industry="fintech", region="EMEA", reference_opt_out=True),
        login("banned", industry="fintech", region="embargoed"),
    )
    return store


def match(store: Store, seed: str = "", now: datetime = NOW, **criteria: Any) -> list[str]:
    found = refs.match(store, KEY, criteria, count=50, seed=seed, clock=clock_at(now))
    return [c.member for c in found]


def request(store: Store, rid: str, now: datetime = NOW, **criteria: Any) -> refs.ReferenceRequest:
    return refs.request(
        store, KEY, criteria, requested_by="rep@acme", count=3, request_id=rid, clock=clock_at(now)
    )


def test_candidates_match_every_criterion_and_leave_out_opted_out_and_segment(pool: Store) -> None:
    assert sorted(match(pool, industry="fintech", region="EMEA")) == [f"fin{i}" for i in range(6)]
    assert sorted(match(pool, industry="fintech", region=["EMEA", "NA"])) == sorted(
        [*(f"fin{i}" for i in range(6)), "us1"]
    )
    assert match(pool, industry="health") == ["health1"]
    assert "banned" not in match(pool, industry="fintech")
    assert match(pool, region="embargoed") == []
    assert match(pool, industry="retail") == []
    assert len(match(pool)) == 8  # no criteria: everyone who may be asked
    assert match(pool, tier="gold") == []
    send(
        pool, {"id": "big-1", "type": "big.deal", "member": "fin3", "occurred_at": NOW.isoformat()}
    )
    assert match(pool, tier="gold") == ["fin3"]
    assert match(pool, stage="mature", industry="fintech") == ["fin3"]


def test_asks_spread_over_advocates_and_respect_the_limits(pool: Store) -> None:
    first = request(pool, "deal-1", industry="fintech", region="EMEA")
    top = [c.member for c in first.candidates]
    assert len(top) == 3 and first.candidates[0].rank == 1
    # equal advocates come in another order for another request
    orders = {tuple(match(pool, seed=f"r{i}", industry="fintech", region="EMEA")) for i in range(6)}
    assert len(orders) > 1
    asked = refs.ask(pool, KEY, "deal-1", [top[0]], clock=clock_at(NOW))
    assert [(a.member, a.status) for a in asked.asks] == [(top[0], "asked")]
    # asked once in 30 days: no longer a candidate
    assert top[0] not in match(pool, industry="fintech", region="EMEA")
    request(pool, "deal-2", industry="fintech", region="EMEA")
    other = next(f"fin{i}" for i in range(6) if f"fin{i}" != top[0])
    with pytest.raises(Conflict, match="the program's limit") as raised:
        refs.ask(pool, KEY, "deal-2", [other, top[0]], clock=clock_at(NOW))
    assert raised.value.field == "members[1]"
    # 40 days later the 30-day limit has passed: back, but ranked after the never-asked
    later = NOW + 40 * DAY
    ranked = match(pool, now=later, industry="fintech", region="EMEA")
    assert ranked[-1] == top[0] and len(ranked) == 6
    with pytest.raises(Conflict, match="opted out"):
        refs.ask(pool, KEY, "deal-2", ["quiet"], clock=clock_at(NOW))


def test_accepting_and_completing_pay_like_any_action(pool: Store) -> None:
    request(pool, "deal-1", industry="fintech")
    refs.ask(pool, KEY, "deal-1", ["fin1", "fin2"], clock=clock_at(NOW))
    accepted = refs.answer(pool, KEY, "deal-1", "fin1", "accept", clock=clock_at(NOW))
    assert accepted.status == "accepted" and len(accepted.sent) == 1
    done = refs.answer(pool, KEY, "deal-1", "fin1", "complete", clock=clock_at(NOW + DAY))
    assert done.status == "completed" and done.sent[0].endswith(":completed")
    assert int(member_row(pool, "fin1").balance) == 1 + 50 + 300
    declined = refs.answer(pool, KEY, "deal-1", "fin2", "decline", clock=clock_at(NOW))
    assert declined.status == "declined"
    # a declined ask does not count: fin2 can be asked again at once
    assert "fin2" in match(pool, industry="fintech")
    with pytest.raises(Conflict, match="declined; complete needs it asked or accepted"):
        refs.answer(pool, KEY, "deal-1", "fin2", "complete", clock=clock_at(NOW))
    with pytest.raises(NotFound, match="fin3 was not asked"):
        refs.answer(pool, KEY, "deal-1", "fin3", "accept", clock=clock_at(NOW))
    again = refs.answer(pool, KEY, "deal-1", "fin1", "complete", clock=clock_at(NOW + DAY))
    assert again.sent == [] and int(member_row(pool, "fin1").balance) == 351


def test_bad_requests_name_the_field(pool: Store) -> None:
    cases = [
        ({"product": "core"}, "criteria.product", "not something requests match on"),
        ({"industry": []}, "criteria.industry", "a list of 1 to 100 values"),
        ({"industry": {"gte": 1}}, "criteria.industry", "a value or a list"),
    ]
    for criteria, field, message in cases:
        with pytest.raises(InvalidInput, match=message) as raised:
            refs.match(pool, KEY, criteria)
        assert raised.value.field == field
    with pytest.raises(InvalidInput) as raised:
        refs.match(pool, KEY, {}, count=0)
    assert raised.value.field == "count"
    request(pool, "deal-1", industry="fintech")
    with pytest.raises(Conflict, match="made before with other criteria"):
        request(pool, "deal-1", industry="health")
    assert request(pool, "deal-1", industry="fintech").duplicate


def test_the_index_follows_attributes_reversals_replay_and_versions(pool: Store) -> None:
    moved = login("health1", 1, industry="fintech")
    send(pool, moved)
    assert "health1" in match(pool, industry="fintech", region="EMEA")
    reverse(pool, KEY, "login-health1-1", "wrong industry", clock=clock_at(NOW))
    assert match(pool, industry="health") == ["health1"]
    before = facet_rows(pool)
    replay(pool, KEY, clock=clock_at(NOW))
    assert facet_rows(pool) == before
    # a version that matches on another attribute rebuilds the index
    publish(pool, PROGRAM.replace("match: [industry, region]", "match: [industry, region, name]"))
    assert match(pool, name="Fin 2") == ["fin2"]
    publish(pool, PROGRAM.replace("references:", "unused:").split("unused:")[0])
    with pytest.raises(NotFound, match="takes no reference requests"):
        match(pool, industry="fintech")
    assert facet_rows(pool) == []


def facet_rows(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return sorted(
            tuple(r)
            for r in conn.execute(
                select(member_facets.c.member_id, member_facets.c.name, member_facets.c.value)
            )
        )


def test_an_empty_exclusion_in_the_segment_leaves_nobody_out(store: Store) -> None:
    publish(
        store,
        PROGRAM.replace("{attribute: region, ne: embargoed}", "{attribute: region, not_in: []}"),
        clock=clock_at(NOW - DAY),
    )
    send(store, login("fin0", industry="fintech", region="embargoed"))
    assert match(store, industry="fintech") == ["fin0"]


def test_rebuilding_the_index_refreshes_the_planners_statistics(pool: Store) -> None:
    """Without them, PostgreSQL planned a match as a nested loop over every ask per candidate."""
    if pool.dialect != "postgresql":
        pytest.skip("SQLite plans without statistics")
    publish(pool, PROGRAM.replace("match: [industry, region]", "match: [industry, region, name]"))
    with pool.engine.connect() as conn:
        # the row count, and the values' statistics (which a rolled-back ANALYZE loses)
        sampled = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'member_facets'::regclass"
        ).scalar_one()
        columns = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = 'member_facets'"
        ).scalar_one()
    assert sampled == len(facet_rows(pool)) > 0
    assert columns == 4
