"""Recommendations as an experiment arm, through the store: the control arm of a running
experiment covering recommendations is shown none and told why, the treatment arm gets its
list, and the experiment's report compares the two arms' outcomes as for any experiment."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from accolade.engine.experiments import CONTROL, TREATMENT, arm_of
from accolade.program.compile import compile_program
from accolade.program.loader import load_program
from accolade.service import experiments as experiments_service
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.recommend import next_actions
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import clock_at

SOURCE = (
    program_head("nba", "Next best actions")
    + """
actions:
  - {key: login, event: login, points: 5}
  - {key: webinar, event: webinar.attended, points: 50}
  - {key: feature, event: feature.used, points: 100}
analytics:
  activated: [action:webinar]
  adopted: [feature]
experiments:
  - key: recs
    name: Do recommendations lift adoption?
    covers: {recommendations: true}
    starts: 2026-07-01
    ends: 2026-07-31
    split: 0.5
    outcomes: [active, adoption]
"""
)
JUNE = datetime(2026, 6, 10, 10, tzinfo=UTC)
JULY = datetime(2026, 7, 2, 10, tzinfo=UTC)
AFTER = datetime(2026, 8, 15, 12, tzinfo=UTC)
EXPERIMENT = "recs"


def arm(member: str) -> str:
    """The arm the hash gives ``member`` (the engine's own function)."""
    return arm_of(compile_program(load_program(SOURCE)).experiments[EXPERIMENT], member)


def named(want: str, prefix: str) -> str:
    return next(f"{prefix}{i}" for i in range(1000) if arm(f"{prefix}{i}") == want)


def ev(id: str, type: str, member: str, at: datetime = JULY) -> dict[str, object]:
    return {"id": id, "type": type, "member": member, "occurred_at": at.isoformat()}


def send(store: Store, *events: dict[str, object], when: datetime) -> None:
    outcomes = ingest_batch(store, "nba", list(enumerate(events, 1)), clock=clock_at(when))
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]


def start(store: Store) -> None:
    publish(store, SOURCE, clock=clock_at(JUNE - timedelta(days=30)))


def test_the_control_arm_gets_no_recommendations_and_is_told_why(store):
    start(store)
    control, treated = named(CONTROL, "c"), named(TREATMENT, "t")
    send(store, ev("l1", "login", control), ev("l2", "login", treated), when=JULY)
    held = next_actions(store, "nba", control, clock=clock_at(JULY + timedelta(hours=1)))
    assert held.recommendations == []
    assert held.held_out == "experiment recs: control arm"
    shown = next_actions(store, "nba", treated, clock=clock_at(JULY + timedelta(hours=1)))
    assert shown.held_out is None
    assert [r.key for r in shown.recommendations][:1] == ["action:feature"]


def test_a_control_member_without_an_event_in_the_window_yet_is_held_out_too(store):
    # known from June, before the window: no arm yet, but their first July event gives control
    start(store)
    control = named(CONTROL, "c")
    send(store, ev("l1", "login", control, JUNE), when=JUNE)
    held = next_actions(store, "nba", control, clock=clock_at(JULY))
    assert (held.recommendations, held.held_out) == ([], "experiment recs: control arm")


def test_after_the_window_the_control_arm_gets_recommendations_again(store):
    start(store)
    control = named(CONTROL, "c")
    send(store, ev("l1", "login", control), when=JULY)
    later = next_actions(store, "nba", control, clock=clock_at(AFTER))
    assert later.held_out is None and later.recommendations


def test_an_experiment_covering_only_recommendations_still_assigns_arms(store):
    start(store)
    people = [f"m{i}" for i in range(30)]
    send(store, *(ev(f"l-{m}", "login", m) for m in people), when=JULY)
    with store.read() as uow:
        program_id = uow.programs.program_by_key("nba").id
        given = uow.experiments.arms(program_id, EXPERIMENT)
    assert sorted(given.values()) == sorted(arm(m) for m in people)


def test_the_report_shows_the_lift_of_members_acting_on_their_first_recommendation(store):
    # everyone logs in (their arm) and uses a feature now and then alike; on top, a member
    # shown a list acts on its first recommendation half the time
    start(store)
    rng = random.Random(25)
    people = {f"p{i:03d}": arm(f"p{i:03d}") for i in range(300)}
    send(store, *(ev(f"login-{m}", "login", m) for m in people), when=JULY)
    shown_at = JULY + timedelta(days=1)
    acted = []
    for m in people:
        found = next_actions(store, "nba", m, clock=clock_at(shown_at))
        assert (found.held_out is not None) == (people[m] == CONTROL)
        if found.recommendations and rng.random() < 0.5:
            first = found.recommendations[0]
            assert first.action == "feature"
            acted.append(ev(f"rec-{m}", "feature.used", m, shown_at + timedelta(hours=1)))
    background = [
        ev(f"use-{m}", "feature.used", m, JULY + timedelta(days=3))
        for m in people
        if rng.random() < 0.2
    ]
    send(store, *acted, *background, when=JULY + timedelta(days=5))

    found = experiments_service.report(store, "nba", EXPERIMENT, clock=clock_at(AFTER))
    assert found.covers == ["recommendations"]
    sizes = {a.arm: a.members for a in found.arms}
    assert sizes == {
        CONTROL: sum(g == CONTROL for g in people.values()),
        TREATMENT: sum(g == TREATMENT for g in people.values()),
    }
    rows = {row.metric: row for row in found.outcomes}
    assert list(rows) == ["active", "adoption"]
    adoption = rows["adoption"]
    assert adoption.treatment is not None and adoption.control is not None
    assert adoption.treatment > adoption.control
    assert adoption.ci_low is not None and adoption.ci_low > 0  # true lift 0.5 events
