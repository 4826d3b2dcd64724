"""Analytics reports on both databases: a scenario whose figures are worked out by hand, the
members behind a figure, bad input, and a property holding every report equal to a plain
Python recomputation from the stored rows (tests/analytics_reference.py)."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accolade.errors import Conflict, InsufficientBalance, InvalidInput, NotFound
from accolade.program.loader import load_program
from accolade.service import analytics
from accolade.service.adjustments import adjust_points
from accolade.service.ingest import ingest_batch
from accolade.service.programs import active
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.repositories.activity import ActivityRepository
from accolade.store.repositories.engagement import EngagementRepository
from accolade.store.tables import member_firsts, metadata
from accolade.store.unit_of_work import Store
from tests.analytics_reference import Reference, comparable, load

from .builders import (
    DEMO_SOURCE,
    PROGRAM,
    activity_rollup,
    clock_at,
    deal,
    engagement_rollup,
    event,
    lead,
    quiz,
    row_counts,
    video,
)
from .builders import publish_demo as publish_source

SOURCE = (
    DEMO_SOURCE
    + """
quests:
  - key: onboarding
    name: Onboarding
    steps:
      - {key: profile, name: Complete your profile, action: profile_completed, points: 10}
      - {key: quiz, name: Pass a quiz, action: quiz_passed}
    reward: {points: 50}

analytics:
  invited: [profile_completed]
  activated: ["badge:certified_user", "action:lead_registered"]
  active: ["action:*"]
  qualified: [lead_registered]
  adopted: [community_answer]
  pipeline: {property: amount_usd, currency: USD, influenced: [lead_registered], won: [deal_won]}
"""
)
JAN = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Monday
FEB = datetime(2026, 2, 9, 15, 0, tzinfo=UTC)
MAR = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
Q1 = {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}


def profile(id: str, member: str, at: datetime) -> dict[str, Any]:
    return event(id, "profile.completed", member, at)


def setup(store: Store) -> None:
    publish_source(store, SOURCE)
    sent = [
        # ann: invited in January, activated by her quiz's badge the same day, a lead in March
        profile("a1", "ann", JAN),
        quiz("a2", "ann", JAN + timedelta(hours=1)),
        lead("a3", "ann", MAR),
        # ben: invited in January, never activated; videos in January and March
        profile("b1", "ben", JAN),
        video("b2", "ben", JAN + timedelta(hours=2)),
        video("b3", "ben", MAR),
        # cy: never invited; a qualified lead in February (activates her), a deal in March
        lead("c1", "cy", FEB, qualified=True),
        deal("c2", "cy", MAR, amount_usd=12_500),
    ]
    for sent_event in sent:
        sent_event["team"] = "north" if sent_event["member"] != "cy" else "south"
    ingest_batch(store, PROGRAM, list(enumerate(sent, 1)), clock=clock_at(NOW))


def rows(store: Store, metric: str, **kw: Any) -> list[dict[str, Any]]:
    args = {**Q1, **kw}
    return analytics.report(store, PROGRAM, metric, clock=clock_at(NOW), **args).rows


def test_activation_counts_the_members_invited_each_month_and_those_activated(store: Store):
    setup(store)
    assert rows(store, "activation") == [
        {"period": "2026-01", "invited": 2, "activated": 1, "rate": 0.5},
        {"period": "2026-02", "invited": 0, "activated": 0, "rate": None},
        {"period": "2026-03", "invited": 0, "activated": 0, "rate": None},
    ]


def test_active_members_per_month_and_per_team(store: Store):
    setup(store)
    assert [r["active"] for r in rows(store, "active")] == [2, 1, 3]
    by_team = rows(store, "active", by="team")
    assert [(r["period"], r["group"], r["active"]) for r in by_team] == [
        ("2026-01", "north", 2),
        ("2026-01", "south", 0),
        ("2026-02", "north", 0),
        ("2026-02", "south", 1),
        ("2026-03", "north", 2),
        ("2026-03", "south", 1),
    ]


def test_qualified_conversion_and_the_days_from_activation_to_it(store: Store):
    setup(store)
    feb, mar = rows(store, "qualified")[1:]
    # cy's lead activated and qualified her at once; ann's came 63 days after her badge
    assert (feb["active"], feb["qualified"], feb["rate"], feb["median_days"]) == (1, 1, 1.0, 0)
    assert (mar["active"], mar["qualified"], mar["first_qualified"]) == (3, 1, 1)
    assert mar["median_days"] == pytest.approx(62.96, abs=0.01)


def test_the_wait_of_a_member_never_activated_runs_from_their_first_event(store: Store):
    # qualified by a deal, which does not activate: ben, never activated, waited from his
    # first event (a video, 28 days before); ann from her badge, 42 days before her deal
    source = SOURCE.replace(
        'activated: ["badge:certified_user", "action:lead_registered"]',
        'activated: ["badge:certified_user"]',
    ).replace("qualified: [lead_registered]", "qualified: [deal_won]")
    publish_source(store, source)
    sent = [
        quiz("a1", "ann", JAN),
        deal("a2", "ann", FEB + timedelta(days=7), amount_usd=100),
        video("b1", "ben", JAN + timedelta(days=7)),
        deal("b2", "ben", FEB, amount_usd=100),
    ]
    ingest_batch(store, PROGRAM, list(enumerate(sent, 1)), clock=clock_at(NOW))
    feb = rows(store, "qualified")[1]
    assert (feb["first_qualified"], feb["median_days"]) == (2, 35)


def test_pipeline_sums_the_property_in_minor_units(store: Store):
    setup(store)
    assert rows(store, "pipeline", by="member") == [
        {"period": "2026-03", "group": "cy", "currency": "USD", "influenced": 0, "won": 1_250_000}
    ]


@pytest.mark.parametrize("name", ["deal size", "taille é", "a\\b"])
def test_pipeline_reads_a_property_of_any_name(store: Store, name: str):
    # the first deal names the property only in a value, the second holds a string, the
    # third has it
    source = SOURCE.replace("property: amount_usd", f"property: {json.dumps(name)}")
    publish_source(store, source)
    sent = [
        event("d1", "deal.won", "ann", FEB, note=name),
        event("d2", "deal.won", "ann", FEB, **{name: "12"}),
        event("d3", "deal.won", "ben", FEB, **{name: 2_500, "amount_usd": 7}),
    ]
    ingest_batch(store, PROGRAM, list(enumerate(sent, 1)), clock=clock_at(NOW))
    assert rows(store, "pipeline", by="member") == [
        {"period": "2026-02", "group": "ben", "currency": "USD", "influenced": 0, "won": 250_000}
    ]


def test_points_liability_carries_over_from_month_to_month(store: Store):
    setup(store)
    points = rows(store, "points")
    assert [r["liability"] for r in points] == [
        sum(r["issued"] for r in points[: i + 1]) for i in range(3)
    ]
    assert points[0]["issued"] > 0 and points[0]["redeemed"] == 0


def test_completion_shows_each_quest_step_and_its_drop_off(store: Store):
    setup(store)
    quest = [r for r in rows(store, "completion") if r["mechanic"].startswith("quest:")]
    assert [(r["mechanic"], r["members"], r["drop_off"]) for r in quest] == [
        ("quest:onboarding/profile", 2, None),
        ("quest:onboarding/quiz", 1, 1),
        ("quest:onboarding", 1, 0),
    ]
    # a badge's rate is against the members active in the range: ann, ben and cy
    badges = [r for r in rows(store, "completion") if r["mechanic"].startswith("badge:")]
    assert badges and all(r["rate"] == round(r["members"] / 3, 4) for r in badges)
    assert any(r["members"] for r in badges)


def test_retention_follows_each_activation_cohort(store: Store):
    setup(store)
    cohorts = [
        (r["period"], r["offset"], r["cohort"], r["active"]) for r in rows(store, "retention")
    ]
    assert cohorts == [
        ("2026-01", 0, 1, 1),
        ("2026-01", 1, 1, 0),
        ("2026-01", 2, 1, 1),
        ("2026-02", 0, 1, 1),
        ("2026-02", 1, 1, 1),
    ]


def test_the_members_behind_a_figure_come_in_pages(store: Store):
    setup(store)
    first = analytics.members(
        store, PROGRAM, "active", "active", period="2026-03", limit=2, clock=clock_at(NOW), **Q1
    )
    assert first.members == ["ann", "ben"] and first.next == "ben"
    rest = analytics.members(
        store, PROGRAM, "active", "active", period="2026-03", after="ben", clock=clock_at(NOW), **Q1
    )
    assert rest.members == ["cy"] and rest.next is None
    step = analytics.members(
        store,
        PROGRAM,
        "completion",
        "members",
        key="quest:onboarding/quiz",
        clock=clock_at(NOW),
        **Q1,
    )
    assert step.members == ["ann"]


def test_a_reversed_event_counts_nowhere(store: Store):
    setup(store)
    reverse(store, PROGRAM, "c2", "deal cancelled", clock=clock_at(NOW))
    assert rows(store, "pipeline") == []
    assert [r["active"] for r in rows(store, "active")] == [2, 1, 2]


def test_reversing_a_members_first_event_moves_their_first_and_replay_rebuilds_it(store: Store):
    setup(store)
    # cy's lead was her first event and what activated and qualified her; without it she is
    # neither, and her deal in March is her first event
    reverse(store, PROGRAM, "c1", "not a real lead", clock=clock_at(NOW))
    metrics = ("activation", "qualified", "retention")
    before = {m: rows(store, m) for m in metrics}
    assert [r["first_qualified"] for r in before["qualified"]] == [0, 0, 1]
    assert [r["cohort"] for r in before["retention"] if r["offset"] == 0] == [1]
    with store.engine.begin() as conn:  # the rollup lost: replay rebuilds it from the log
        conn.execute(member_firsts.delete())
    replay(store, PROGRAM, clock=clock_at(NOW))
    assert {m: rows(store, m) for m in metrics} == before


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (dict(metric="actve"), NotFound, "metric"),
        (dict(start=date(2026, 3, 1), end=date(2026, 2, 1)), InvalidInput, "to"),
        (dict(interval="day"), InvalidInput, "interval"),
        (dict(by="attribute:regoin"), InvalidInput, "by"),
        (dict(by="teams"), InvalidInput, "by"),
        (dict(metric="engagement", by="team"), InvalidInput, "by"),
        (dict(start=date(2000, 1, 1), interval="week"), InvalidInput, "from"),
    ],
)
def test_bad_report_requests_name_the_field_and_store_nothing(store: Store, call, error, field):
    setup(store)
    before = row_counts(store)
    args = {"metric": "active", **Q1, **call}
    with pytest.raises(error) as caught:
        analytics.report(store, PROGRAM, clock=clock_at(NOW), **args)
    assert caught.value.field == field
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (dict(measure="rate"), "measure"),
        (dict(period="2025-12"), "period"),
        (dict(limit=0), "limit"),
    ],
)
def test_bad_member_requests_name_the_field(store: Store, call, field):
    setup(store)
    args = {"measure": "active", **Q1, **call}
    with pytest.raises(InvalidInput) as caught:
        analytics.members(store, PROGRAM, "active", clock=clock_at(NOW), **args)
    assert caught.value.field == field


# -- the property ----------------------------------------------------------------------------

START = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)  # midnight in New York
# month and week boundaries in New York, where an event at the very instant must fall after
EDGES = [datetime(2026, m, 1, 5, 0, tzinfo=UTC) for m in (2, 3)] + [
    datetime(2026, 3, 2, 5, 0, tzinfo=UTC),  # a Monday, before the switch to summer time
    datetime(2026, 3, 9, 4, 0, tzinfo=UTC),  # a Monday, after it
]


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[str, Any]]:
    ops: list[tuple[str, Any]] = []
    for n in range(draw(st.integers(1, 30))):
        member = draw(st.sampled_from(["ann", "ben", "cy", "dee"]))
        if draw(st.integers(0, 5)) == 0:
            at = draw(st.sampled_from(EDGES))
        else:
            at = START + timedelta(minutes=draw(st.integers(0, 100 * 24 * 60)))
        kind = draw(st.sampled_from(["profile", "video", "quiz", "lead", "deal", "answer"]))
        if kind == "profile":
            body = profile(f"e{n}", member, at)
        elif kind == "video":
            body = video(f"e{n}", member, at)
        elif kind == "quiz":
            body = quiz(f"e{n}", member, at)
        elif kind == "lead":
            body = lead(f"e{n}", member, at, qualified=draw(st.booleans()))
        elif kind == "deal":
            body = deal(f"e{n}", member, at, amount_usd=draw(st.integers(0, 50_000)))
        else:
            body = event(f"e{n}", "community.answered", member, at, thread=f"t{n}")
        if draw(st.booleans()):
            body["team"] = draw(st.sampled_from(["north", "south"]))
        if draw(st.booleans()):
            body["attributes"] = {"region": draw(st.sampled_from(["NA", "EMEA", 7, True]))}
        ops.append(("send", body))
        if draw(st.integers(0, 6)) == 0:
            ops.append(("reverse", f"e{draw(st.integers(0, n))}"))
        if draw(st.integers(0, 8)) == 0:  # a manual adjustment (it fails on too low a balance)
            ops.append(("adjust", (member, draw(st.sampled_from([-5, 20])), at)))
    if draw(st.booleans()):
        ops.append(("replay", None))
    return ops


def run(store: Store, ops: list[tuple[str, Any]], source: str = SOURCE) -> None:
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    publish_source(store, source)
    sizes = cycle([3, 1, 5])
    pending: list[Any] = []
    for kind, value in [*ops, ("end", None)]:
        if kind == "send":
            pending.append(value)
            if len(pending) < next(sizes):
                continue
        if pending:
            ingest_batch(store, PROGRAM, list(enumerate(pending, 1)), clock=clock_at(NOW))
            pending = []
        if kind == "reverse":
            # already reversed, or never logged (an event the program rejected)
            with suppress(NotFound, Conflict):
                reverse(store, PROGRAM, value, "fraud", clock=clock_at(NOW))
        elif kind == "adjust":
            member, points, at = value
            with suppress(NotFound, InsufficientBalance):
                adjust_points(store, PROGRAM, member, points, "goodwill", clock=clock_at(at))
        elif kind == "replay":
            replay(store, PROGRAM, clock=clock_at(NOW))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=streams(),
    interval=st.sampled_from(["month", "week"]),
    by=st.sampled_from([None, "team", "attribute:region", "stage", "tier"]),
)
def test_every_report_equals_the_plain_python_recomputation_from_the_log(
    stores: tuple[Store, Store], ops: list[tuple[str, Any]], interval: str, by: str | None
) -> None:
    program = load_program(SOURCE)
    results = []
    for store in stores:
        run(store, ops)
        log = load(store)
        found = {}
        if by == "attribute:region" and not any(
            "region" in (m.attributes or {}) for m in log.members.values()
        ):
            with pytest.raises(InvalidInput, match="no member has the attribute"):
                analytics.report(store, PROGRAM, "active", by=by, clock=clock_at(NOW))
            results.append({})
            continue
        for metric, info in analytics.METRICS.items():
            grouping = by if info.groups else None
            report = analytics.report(
                store,
                PROGRAM,
                metric,
                date(2026, 1, 1),
                date(2026, 4, 10),
                interval,
                grouping,
                clock=clock_at(NOW),
            )
            periods = analytics.periods_of(report.range, program_zone())
            expected = Reference(log, program, periods, grouping).rows(metric)
            assert comparable(report.rows, metric) == comparable(expected, metric), metric
            found[metric] = comparable(report.rows, metric)
        results.append(found)
        assert engagement_rollup(store) == rebuilt_rollup(store)
        assert activity_rollup(store) == rebuilt_activity(store)
    assert results[0] == results[1]  # SQLite and PostgreSQL agree


# Definitions of activation and qualification that take the qualified metric's other paths:
# a qualified type that does not activate (the wait from the first event, for members never
# activated), any event activating, a quest's entries and badges as starts, and no other start.
QUALIFIED_DEFINITIONS = [
    ('["badge:certified_user"]', "[lead_registered, deal_won]"),
    ('["action:*"]', "[lead_registered]"),
    ('["quest:onboarding", "action:deal_won"]', "[deal_won]"),
    ('["action:lead_registered"]', "[lead_registered]"),
    ('["quest:*", "badge:*"]', "[quiz_passed, lead_registered]"),
]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=streams(),
    definitions=st.sampled_from(QUALIFIED_DEFINITIONS),
    interval=st.sampled_from(["month", "week"]),
    by=st.sampled_from([None, "team"]),
)
def test_qualified_equals_the_recomputation_whatever_activates_and_qualifies(
    stores: tuple[Store, Store],
    ops: list[tuple[str, Any]],
    definitions: tuple[str, str],
    interval: str,
    by: str | None,
) -> None:
    activated, qualified = definitions
    source = SOURCE.replace(
        'activated: ["badge:certified_user", "action:lead_registered"]',
        f"activated: {activated}",
    ).replace("qualified: [lead_registered]", f"qualified: {qualified}")
    assert f"activated: {activated}" in source
    program = load_program(source)
    for store in stores:
        run(store, ops, source)
        report = analytics.report(
            store,
            PROGRAM,
            "qualified",
            date(2026, 1, 1),
            date(2026, 4, 10),
            interval,
            by,
            clock=clock_at(NOW),
        )
        periods = analytics.periods_of(report.range, program_zone())
        expected = Reference(load(store), program, periods, by).rows("qualified")
        assert comparable(report.rows, "qualified") == comparable(expected, "qualified")


def rebuilt_rollup(store: Store) -> list[list[tuple[Any, ...]]]:
    """The engagement rollup as the revision that adds it fills it from the ledger: equal to
    the one kept entry by entry."""
    with store.transaction() as uow:
        program = active(uow, PROGRAM)
        EngagementRepository(uow.conn).rebuild(program.id, program.compiled.zone)
    return engagement_rollup(store)


def rebuilt_activity(store: Store) -> dict[tuple[Any, ...], set[int]]:
    """The activity rollup as the revision that adds it (and replay) fills it from the log:
    equal to the one kept batch by batch."""
    with store.transaction() as uow:
        program = active(uow, PROGRAM)
        ActivityRepository(uow.conn).rebuild(program.id, program.compiled.zone)
    return activity_rollup(store)


def retention(store: Store, **kw: Any) -> dict[tuple[str, int], int]:
    return {(r["period"], r["offset"]): r["active"] for r in rows(store, "retention", **kw)}


def test_retention_leaves_out_a_reversed_event_whose_bit_stays_in_the_rollup(store: Store):
    setup(store)
    cy = member_id(store, "cy")
    march = ("month", date(2026, 3, 1).toordinal(), "deal.won")
    assert retention(store)[("2026-02", 1)] == 1
    # cy's only March event was her deal: reversed, she was not active in March, though the
    # rollup (which clears no bit) still holds her there
    reverse(store, PROGRAM, "c2", "deal cancelled", clock=clock_at(NOW))
    assert cy in next(m for k, m in activity_rollup(store).items() if k[2:] == march)
    assert retention(store)[("2026-02", 1)] == 0
    assert retention(store, interval="week")[("2026-W07", 4)] == 0
    # another March event of hers, of another type: active again
    ingest_batch(
        store, PROGRAM, [(1, video("c3", "cy", MAR + timedelta(days=2)))], clock=clock_at(NOW)
    )
    assert retention(store)[("2026-02", 1)] == 1
    assert retention(store, interval="week")[("2026-W07", 4)] == 1


def test_after_the_programs_zone_changes_retention_reads_the_log_until_a_replay(store: Store):
    setup(store)
    # 02:00 UTC on 1 March: February in New York, where the rollup was cut; March in Berlin
    ingest_batch(
        store,
        PROGRAM,
        [(1, video("late", "ann", datetime(2026, 3, 1, 2, 0, tzinfo=UTC)))],
        clock=clock_at(NOW),
    )
    assert retention(store)[("2026-01", 1)] == 1  # ann, active in February
    berlin = SOURCE.replace("America/New_York", "Europe/Berlin")
    publish_source(store, berlin)
    periods = analytics.periods_of(
        analytics.Range(Q1["start"], Q1["end"], "month", None), ZoneInfo("Europe/Berlin")
    )
    expected = Reference(load(store), load_program(berlin), periods, None).rows("retention")
    assert comparable(rows(store, "retention"), "retention") == comparable(expected, "retention")
    assert retention(store)[("2026-01", 1)] == 0
    replay(store, PROGRAM, clock=clock_at(NOW))
    assert {k[1] for k in activity_rollup(store)} == {"Europe/Berlin"}
    assert comparable(rows(store, "retention"), "retention") == comparable(expected, "retention")


def member_id(store: Store, external_id: str) -> int:
    from sqlalchemy import select

    from accolade.store.tables import members

    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(members.c.id).where(members.c.external_id == external_id)
            ).scalar_one()
        )


def program_zone() -> ZoneInfo:
    return ZoneInfo("America/New_York")


def engagement(store: Store, **kw: Any) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {
        (r["period"], r["mechanic"]): (r["events"], r["members"], r["points"])
        for r in rows(store, "engagement", **kw)
    }


def test_engagement_counts_a_member_once_in_a_week_across_new_year(store: Store):
    # the rollup keeps weeks per calendar year: the week from Monday 29 December holds bits
    # of two years' rows, and ann must count once in it
    publish_source(store, SOURCE)
    sent = [
        video("v1", "ann", datetime(2025, 12, 30, 15, 0, tzinfo=UTC)),
        video("v2", "ann", datetime(2026, 1, 2, 15, 0, tzinfo=UTC)),
        video("v3", "ben", datetime(2026, 1, 3, 15, 0, tzinfo=UTC)),
        video("v4", "ann", datetime(2026, 1, 6, 15, 0, tzinfo=UTC)),
    ]
    ingest_batch(store, PROGRAM, list(enumerate(sent, 1)), clock=clock_at(NOW))
    by_week = engagement(store, start=date(2025, 12, 29), end=date(2026, 1, 11), interval="week")
    assert by_week[("2026-W01", "action:video_watched")][:2] == (3, 2)
    assert by_week[("2026-W02", "action:video_watched")][:2] == (1, 1)
    # cut short by the range, the same week is read from the ledger: the same figures
    cut = engagement(store, start=date(2025, 12, 31), end=date(2026, 1, 4), interval="week")
    assert cut[("2026-W01", "action:video_watched")][:2] == (2, 2)


def test_after_the_programs_zone_changes_engagement_reads_the_ledger_until_a_replay(
    store: Store,
):
    setup(store)
    # cut in New York: an event at 02:00 UTC on 1 March is February's there, March's in Berlin
    ingest_batch(
        store,
        PROGRAM,
        [(1, video("late", "ben", datetime(2026, 3, 1, 2, 0, tzinfo=UTC)))],
        clock=clock_at(NOW),
    )
    new_york = engagement(store)
    publish_source(store, SOURCE.replace("America/New_York", "Europe/Berlin"))
    berlin = engagement(store)
    feb, mar = ("2026-02", "action:video_watched"), ("2026-03", "action:video_watched")
    assert new_york[feb][0] == 1 and feb not in berlin
    assert berlin[mar][0] == new_york[mar][0] + 1
    program = load_program(SOURCE.replace("America/New_York", "Europe/Berlin"))
    periods = analytics.periods_of(
        analytics.Range(Q1["start"], Q1["end"], "month", None), ZoneInfo("Europe/Berlin")
    )
    expected = Reference(load(store), program, periods, None).rows("engagement")
    assert comparable(rows(store, "engagement"), "engagement") == comparable(expected, "engagement")
    replay(store, PROGRAM, clock=clock_at(NOW))
    assert engagement(store) == berlin
    assert {r[1] for r in engagement_rollup(store)[0]} == {"Europe/Berlin"}


def test_a_batch_across_a_change_of_offset_keeps_each_entry_on_its_local_day(store: Store):
    # New York moves to UTC-4 at 2026-03-08 07:00 UTC (02:00 local); one batch holds entries at
    # both sides of it, at local midnights and at month ends
    publish_source(store, SOURCE)
    times = [
        datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC),  # 23:59:59 on the 7th (UTC-5)
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC),  # midnight of the 8th
        datetime(2026, 3, 8, 6, 59, 59, 900_000, tzinfo=UTC),  # 01:59:59.9, still UTC-5
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 (UTC-4)
        datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC),  # 23:59:59 on the 8th (UTC-4)
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),  # midnight of the 9th
        datetime(2026, 2, 1, 4, 59, 59, tzinfo=UTC),  # January's last second, local
        datetime(2026, 4, 1, 4, 0, tzinfo=UTC),  # April's first
    ]
    sent = [video(f"v-{i}", f"m{i % 3}", at) for i, at in enumerate(times)]
    ingest_batch(store, PROGRAM, list(enumerate(sent, 1)), clock=clock_at(NOW))
    kept = engagement_rollup(store)
    days = {(row[2], row[3]) for row in kept[0] if row[3] == "action:video_watched"}
    local = {
        (at.astimezone(program_zone()).date().toordinal(), "action:video_watched") for at in times
    }
    assert days == local
    assert kept == rebuilt_rollup(store)  # as the ledger read in Python cuts it
