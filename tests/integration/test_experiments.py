"""Experiments through the store, on SQLite and PostgreSQL: arms recorded once and kept, the
control group's covered events logged but unpaid and explained, replay, the report on a
population seeded through ingest, decisions, and bad input that stores nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from accolade.engine.experiments import CONTROL, TREATMENT, arm_of
from accolade.errors import InvalidInput, InvalidProgram, NotFound, NotRedeemable
from accolade.service import experiments as experiments_service
from accolade.service import members as members_service
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.service.rewards import redeem
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import clock_at, projection, row_counts

PILOT = (
    program_head("pilot", "Pilot")
    + """
actions:
  - {key: login, event: login, points: 5}
  - {key: webinar, event: webinar.attended, points: 50}
  - {key: feature, event: feature.used, points: 10}
  - {key: deal, event: deal.registered, points: 100}
badges:
  - {key: first_webinar, name: First webinar, when: {action: webinar}}
rewards:
  - {key: mug, name: Mug, price: 5}
analytics:
  activated: [action:webinar]
  qualified: [deal]
  adopted: [feature]
  pipeline: {property: value, currency: EUR, influenced: [deal]}
experiments:
  - key: webinar_points
    name: Do webinar points lift adoption?
    covers: {actions: [webinar], badges: [first_webinar], rewards: [mug]}
    segment: [{attribute: region, eq: emea}]
    starts: 2026-07-01
    ends: 2026-07-31
    split: 0.5
"""
)
JULY = datetime(2026, 7, 2, 10, tzinfo=UTC)
AFTER = datetime(2026, 8, 15, 12, tzinfo=UTC)
EMEA = {"region": "emea"}
EXPERIMENT = "webinar_points"


def ev(id, type, member, at=JULY, attributes=None, **properties):
    out = {"id": id, "type": type, "member": member, "occurred_at": at.isoformat()}
    if attributes:
        out["attributes"] = attributes
    if properties:
        out["properties"] = properties
    return out


def send(store: Store, *events, when: datetime = JULY + timedelta(hours=1)):
    outcomes = ingest_batch(store, "pilot", list(enumerate(events, 1)), clock=clock_at(when))
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    return outcomes


def start(store: Store, source: str = PILOT) -> None:
    publish(store, source, clock=clock_at(JULY - timedelta(days=30)))


def arm(member: str) -> str:
    """The arm the hash gives ``member`` in the pilot (the engine's own function)."""
    from accolade.program.compile import compile_program
    from accolade.program.loader import load_program

    return arm_of(compile_program(load_program(PILOT)).experiments[EXPERIMENT], member)


def named(want: str, prefix: str) -> str:
    return next(f"{prefix}{i}" for i in range(1000) if arm(f"{prefix}{i}") == want)


def arms(store: Store) -> dict[int, str]:
    with store.read() as uow:
        program_id = uow.programs.program_by_key("pilot").id
        return uow.experiments.arms(program_id, EXPERIMENT)


def test_the_arm_is_recorded_once_and_kept_across_a_publish_that_changes_the_share(store):
    start(store)
    people = [f"m{i}" for i in range(40)]
    send(store, *(ev(f"login-{m}", "login", m, attributes=EMEA) for m in people))
    first = arms(store)
    assert sorted(first.values()) == sorted(arm(m) for m in people)
    publish(store, PILOT.replace("split: 0.5", "split: 0.95"), clock=clock_at(JULY))
    later = JULY + timedelta(days=3)
    send(store, *(ev(f"again-{m}", "login", m, later, EMEA) for m in people), when=later)
    assert arms(store) == first  # one entry per member, from their first event
    view = members_service.show(store, "pilot", people[0], clock=clock_at(later))
    assert [(a.experiment, a.arm, a.running) for a in view.experiments] == [
        (EXPERIMENT, arm(people[0]), True)
    ]


def test_control_members_covered_events_are_logged_but_unpaid_and_explained(store):
    start(store)
    control, treated = named(CONTROL, "c"), named(TREATMENT, "t")
    send(
        store,
        ev("w1", "webinar.attended", control, attributes=EMEA),
        ev("w2", "webinar.attended", treated, attributes=EMEA),
    )
    lines = members_service.explain(store, "pilot", control)
    assert [(line.event_id, line.kind, line.rule, line.period, line.points) for line in lines] == [
        ("w1", "experiment", "experiment:webinar_points", CONTROL, 0),
        ("w1", "earn", "action:webinar", "", 0),
        ("w1", "experiment", "badge:first_webinar", CONTROL, 0),
        ("w1", "tier", "tier:bronze", "", 0),
    ]
    assert lines[0].reason.startswith(
        "assigned to the control group of experiment 'webinar_points'"
    )
    assert lines[1].reason == (
        "control group of experiment 'webinar_points': action 'webinar' gives no points"
    )
    assert members_service.show(store, "pilot", control).balance == 0
    paid = members_service.show(store, "pilot", treated)
    assert (paid.balance, [b.key for b in paid.badges]) == (50, ["first_webinar"])
    assert row_counts(store)["events"] == 2  # both logged


def test_the_control_group_cannot_redeem_a_covered_reward(store):
    start(store)
    control = named(CONTROL, "c")
    send(store, ev("l1", "login", control, attributes=EMEA))
    with pytest.raises(NotRedeemable) as refused:
        redeem(store, "pilot", control, "mug", clock=clock_at(JULY + timedelta(hours=2)))
    assert refused.value.field == "reward"
    assert "control group of experiment 'webinar_points'" in refused.value.message


def test_replay_reproduces_the_arms(store):
    start(store)
    people = [f"m{i}" for i in range(20)]
    send(store, *(ev(f"w-{m}", "webinar.attended", m, attributes=EMEA) for m in people))
    publish(store, PILOT.replace("split: 0.5", "split: 0.1"), clock=clock_at(JULY))
    send(store, *(ev(f"f-{m}", "feature.used", m) for m in people))
    before = projection(store)

    replay(store, "pilot", clock=clock_at(JULY + timedelta(hours=2)))

    assert projection(store) == before
    assert sorted(arms(store).values()) == sorted(arm(m) for m in people)


def seed_population(store: Store, size: int = 400, seed: int = 20) -> dict[str, str]:
    """``size`` EMEA members whose first event (a login) gives them their arm; then treatment
    members attend webinars and use features more often. Returns member -> arm."""
    rng = random.Random(seed)
    people = {f"p{i:03d}": arm(f"p{i:03d}") for i in range(size)}
    events = [ev(f"login-{m}", "login", m, attributes=EMEA) for m in people]
    for m, group in people.items():
        treated = group == TREATMENT
        if rng.random() < (0.6 if treated else 0.3):
            events.append(ev(f"web-{m}", "webinar.attended", m, JULY + timedelta(days=1)))
        for n in range(rng.choice([2, 3, 4] if treated else [0, 1, 2])):
            events.append(ev(f"use-{m}-{n}", "feature.used", m, JULY + timedelta(days=2 + n)))
        if rng.random() < 0.2:
            events.append(
                ev(f"deal-{m}", "deal.registered", m, JULY + timedelta(days=9), value=500)
            )
    send(store, *events, when=JULY + timedelta(days=20))
    return people


def test_the_report_measures_the_lift_of_a_population_seeded_through_ingest(store):
    start(store)
    people = seed_population(store)
    found = experiments_service.report(store, "pilot", EXPERIMENT, clock=clock_at(AFTER))

    sizes = {a.arm: a.members for a in found.arms}
    assert sizes == {
        CONTROL: sum(g == CONTROL for g in people.values()),
        TREATMENT: sum(g == TREATMENT for g in people.values()),
    }
    assert (found.status, found.split, found.cohort) == ("ended", 0.5, None)
    assert found.srm is not None and not found.srm.mismatch
    rows = {row.metric: row for row in found.outcomes}
    assert list(rows) == ["activation", "active", "qualified", "adoption", "pipeline"]
    activation, adoption = rows["activation"], rows["adoption"]
    assert activation.kind == "rate" and adoption.kind == "mean"
    assert activation.ci_low > 0 and activation.p_value < 0.001  # true lift 0.3
    assert adoption.ci_low < 2.0 < adoption.ci_high  # true difference 3 - 1 = 2 events
    assert adoption.test == "Welch's t-test"
    assert rows["active"].control == rows["active"].treatment == 1.0  # everyone logged in
    assert rows["pipeline"].currency == "EUR"
    assert rows["qualified"].ci_low < 0 < rows["qualified"].ci_high  # no lift there
    assert found.decision is None


def test_a_decision_is_recorded_and_the_report_shows_the_latest(store):
    start(store)
    experiments_service.decide(
        store, "pilot", EXPERIMENT, "extend", "Dana", "too few members yet", clock=clock_at(JULY)
    )
    experiments_service.decide(
        store, "pilot", EXPERIMENT, "ship", " Dana ", "clear lift", clock=clock_at(AFTER)
    )
    found = experiments_service.report(store, "pilot", EXPERIMENT, clock=clock_at(AFTER))
    assert found.decision is not None
    assert (found.decision.decision, found.decision.decided_by, found.decision.reason) == (
        "ship",
        "Dana",
        "clear lift",
    )
    assert [d.decision for d in found.decisions] == ["extend", "ship"]
    [summary] = experiments_service.experiments(store, "pilot", clock=clock_at(AFTER))
    assert summary.decision == found.decision


@pytest.mark.parametrize(
    ("decision", "by", "reason", "field"),
    [
        ("launch", "Dana", "why", "decision"),
        ("ship", " ", "why", "decided_by"),
        ("ship", "Dana", "", "reason"),
    ],
)
def test_a_bad_decision_names_its_field_and_stores_nothing(store, decision, by, reason, field):
    start(store)
    before = row_counts(store)
    with pytest.raises(InvalidInput) as refused:
        experiments_service.decide(store, "pilot", EXPERIMENT, decision, by, reason)
    assert refused.value.field == field
    assert row_counts(store) == before


def test_an_unknown_experiment_is_not_found(store):
    start(store)
    with pytest.raises(NotFound) as missing:
        experiments_service.report(store, "pilot", "webinar_point")
    assert missing.value.field == "experiment"
    assert "did you mean 'webinar_points'" in missing.value.message
    with pytest.raises(NotFound):
        experiments_service.decide(store, "pilot", "nope", "ship", "Dana", "why")


def test_a_cohort_naming_an_unknown_member_is_refused_and_nothing_is_stored(store):
    start(store)
    send(store, ev("l1", "login", "ann", attributes=EMEA))
    before = row_counts(store)
    cohort = PILOT.replace("split: 0.5", "cohort: [ann, ghost]")
    with pytest.raises(InvalidInput) as refused:
        publish(store, cohort, clock=clock_at(JULY))
    assert refused.value.field == "experiments[0].cohort[1]"
    assert "no member 'ghost'" in refused.value.message
    assert row_counts(store) == before


def test_a_cohort_of_known_members_is_published(store):
    start(store)
    send(store, ev("l1", "login", "ann", JULY - timedelta(days=5), EMEA))
    publish(store, PILOT.replace("split: 0.5", "cohort: [ann]"), clock=clock_at(JULY))
    send(
        store, ev("l2", "login", "ann", attributes=EMEA), ev("l3", "login", "bob", attributes=EMEA)
    )
    assert sorted(arms(store).values()) == [CONTROL, TREATMENT]
    report = experiments_service.report(store, "pilot", EXPERIMENT, clock=clock_at(AFTER))
    assert (report.split, report.cohort, report.srm.expected) == (None, 1, None)


def test_an_experiment_overlapping_another_on_a_mechanic_is_refused_at_publish(store):
    before = row_counts(store)
    second = """
  - key: second
    name: Second
    covers: {actions: [webinar]}
    starts: 2026-07-15
    ends: 2026-08-15
"""
    with pytest.raises(InvalidProgram) as refused:
        publish(store, PILOT + second, clock=clock_at(JULY))
    assert [e.field for e in refused.value.errors] == ["experiments[1].covers.actions[0]"]
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("start_at", "end_at"),
    [
        (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)),  # a whole month
        # a running experiment: the whole weeks from the rollup, the rest from the log
        (datetime(2026, 7, 6, tzinfo=UTC), datetime(2026, 7, 21, 9, tzinfo=UTC)),
        # June from the rollup, then July (which starts on a Wednesday) from the log
        (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)),
    ],
)
def test_members_active_per_arm_from_the_rollup_equal_those_read_from_the_log(
    store, start_at, end_at
):
    from accolade.engine.experiments import ARMS
    from accolade.service.analytics import active_window, outcome_occurrences
    from accolade.service.experiments import _members_per_arm
    from accolade.service.programs import active
    from accolade.service.reverse import reverse

    start(store)
    people = seed_population(store, size=120)
    # some members' logins reversed: their bits stay in the rollup, and those with no other
    # event are not active
    for m in list(people)[:30]:
        reverse(store, "pilot", f"login-{m}", "a bot", clock=clock_at(AFTER))
    with store.read() as uow:
        program = active(uow, "pilot")
        arms = uow.experiments.arms_select(program.id, EXPERIMENT)
        bits = active_window(uow.conn, program.id, program.compiled, start_at, end_at)
        assert bits is not None
        logged = outcome_occurrences(uow, program.id, program.compiled, "active", start_at, end_at)
        expected = uow.analytics.members_per_arm(arms, ARMS, logged)
        assert _members_per_arm(uow, arms, bits) == expected
        assert 0 < sum(expected.values()) < len(people)
        # a window that starts neither a month nor a week is read from the log
        mid_week = datetime(2026, 7, 2, tzinfo=UTC)
        assert active_window(uow.conn, program.id, program.compiled, mid_week, end_at) is None
