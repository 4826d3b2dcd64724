"""Next best actions through the store: a model trained on a history with a planted preference
ranks each role's mechanic first; dismissing hides a candidate and is logged."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from accolade.errors import InvalidInput, NotFound
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.recommend import dismiss, next_actions
from accolade.service.recommend_training import model_summary, train
from accolade.store.tables import events
from accolade.store.unit_of_work import Store

from .builders import clock_at

PROGRAM = "advocacy"
SOURCE = """
key: advocacy
name: Advocacy
actions:
  - {key: story, event: story.submitted, points: 50}
  - {key: referral, event: lead.referred, points: 50}
  - {key: webinar, event: webinar.attended, points: 50}
  - {key: review, event: review.posted, points: 50}
challenges:
  - key: stories
    name: Share your win
    starts: 2026-01-01
    ends: 2027-12-31
    goal: {action: story, count: 100000}
    reward: {points: 50}
recommendations:
  min_positives: 10
  exploration: 0
"""
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NOW = START + timedelta(days=140)
PLANTED = {"A": "story", "B": "referral"}


def planted_history(members: int = 120, seed: int = 7) -> list[dict[str, object]]:
    """Role A members submit stories most weeks, role B members refer leads; both attend
    webinars and post reviews now and then."""
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for m in range(members):
        role = "AB"[m % 2]
        member = f"{role.lower()}{m}"
        rates = {"story": 0.05, "referral": 0.05, "webinar": 0.15, "review": 0.15}
        rates[PLANTED[role]] = 0.6
        types = {
            "story": "story.submitted",
            "referral": "lead.referred",
            "webinar": "webinar.attended",
            "review": "review.posted",
        }
        first = True
        for week in range(20):
            for action, rate in rates.items():
                if rng.random() < rate:
                    at = START + timedelta(days=7 * week, hours=rng.randrange(100))
                    event: dict[str, object] = {
                        "id": f"{member}-{action}-{week}",
                        "type": types[action],
                        "member": member,
                        "occurred_at": at.isoformat(),
                    }
                    if first:
                        event["attributes"] = {"role": role}
                        first = False
                    out.append(event)
    out.sort(key=lambda e: str(e["occurred_at"]))
    # every member's role arrives with their first event
    return out


@pytest.fixture
def trained(store: Store) -> Store:
    publish(store, SOURCE, clock=clock_at(START))
    history = planted_history()
    ingest_batch(store, PROGRAM, list(enumerate(history)), clock=clock_at(NOW))
    train(store, PROGRAM, clock=clock_at(NOW))
    return store


def test_model_ranks_each_roles_planted_mechanic_first(trained: Store) -> None:
    for member, role in (("a0", "A"), ("b1", "B"), ("a10", "A"), ("b11", "B")):
        ranked = next_actions(trained, PROGRAM, member, clock=clock_at(NOW)).recommendations
        assert ranked[0].action == PLANTED[role], [(r.key, r.probability) for r in ranked]
        assert ranked[0].source == "model"
        assert any("your role is " + role in reason for reason in ranked[0].reasons), ranked[0]


def test_training_stores_a_versioned_model_with_offline_metrics(trained: Store) -> None:
    summary = model_summary(trained, PROGRAM)
    assert summary["program_version"] == 1 and summary["samples"] > 0
    precision = summary["metrics"]["precision_at_3"]
    assert precision["model"] >= precision["popular"]
    again = train(trained, PROGRAM, clock=clock_at(NOW))
    assert again.model_id > summary["model_id"]


def test_without_a_model_the_rule_based_prior_ranks_with_the_eligibility_rule(
    store: Store,
) -> None:
    publish(store, SOURCE, clock=clock_at(START))
    ingest_batch(store, PROGRAM, [(0, planted_history(2)[0])], clock=clock_at(NOW))
    [member] = {str(e["member"]) for e in planted_history(2)[:1]}
    ranked = next_actions(store, PROGRAM, member, clock=clock_at(NOW)).recommendations
    assert ranked and all(r.source == "prior" for r in ranked)
    assert ranked[0].key == "challenge:stories"  # a challenge's prior beats a plain action's
    assert ranked[0].reasons[0].startswith("challenge open through 2027-12-31")


def test_dismissed_candidate_is_hidden_and_logged_as_an_event(trained: Store) -> None:
    first = next_actions(trained, PROGRAM, "b1", clock=clock_at(NOW)).recommendations[0]
    until = dismiss(trained, PROGRAM, "b1", first.key, clock=clock_at(NOW))
    assert until == NOW + timedelta(days=30)
    after = next_actions(trained, PROGRAM, "b1", clock=clock_at(NOW + timedelta(days=1)))
    assert first.key not in [r.key for r in after.recommendations]
    later = next_actions(trained, PROGRAM, "b1", clock=clock_at(NOW + timedelta(days=31)))
    assert first.key in [r.key for r in later.recommendations]
    with trained.read() as uow:
        logged = uow.conn.execute(
            select(events.c.type, events.c.status).where(
                events.c.type == "recommendation.dismissed"
            )
        ).all()
    assert [tuple(r) for r in logged] == [("recommendation.dismissed", "accepted")] or len(
        logged
    ) == 1


def test_dismiss_refuses_a_malformed_key_and_an_unknown_member(trained: Store) -> None:
    with pytest.raises(InvalidInput) as bad:
        dismiss(trained, PROGRAM, "b1", "nonsense", clock=clock_at(NOW))
    assert bad.value.field == "candidate"
    with pytest.raises(NotFound):
        next_actions(trained, PROGRAM, "nobody", clock=clock_at(NOW))


def test_exploration_is_reproducible_per_member_and_day() -> None:
    from accolade.engine.state import MemberState
    from accolade.program.compile import compile_program
    from accolade.program.loader import load_program
    from accolade.service.recommend import rank

    exploring = compile_program(
        load_program(SOURCE.replace("exploration: 0", "exploration: 0.5")), version=1
    )
    now = int(NOW.timestamp())
    lists = {m: rank(exploring, None, MemberState(f"m{m}"), now, limit=2) for m in range(40)}
    explored = [m for m, ranked in lists.items() if ranked[-1].source == "exploration"]
    assert 5 < len(explored) < 35  # about half the members see an explored last place
    again = rank(exploring, None, MemberState(f"m{explored[0]}"), now, limit=2)
    assert again == lists[explored[0]]
    assert "shown to explore" in " ".join(again[-1].reasons)
    calm = compile_program(load_program(SOURCE), version=1)
    assert all(
        r.source != "exploration"
        for m in range(40)
        for r in rank(calm, None, MemberState(f"m{m}"), now, limit=2)
    )
