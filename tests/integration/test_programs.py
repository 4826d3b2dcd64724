"""Publishing and rolling back program versions, and the version each event is evaluated under."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.errors import NotFound
from accolade.service.programs import rollback, versions
from accolade.service.replay import replay
from accolade.store.unit_of_work import Store

from .builders import (
    DEMO_SOURCE,
    MONDAY,
    PROGRAM,
    clock_at,
    demo_with,
    ledger_of,
    projection,
    publish_demo,
    send,
    video,
)

# Version 2 of the demo: a training video is worth 20 points instead of 10.
VIDEOS_AT_20 = demo_with(
    "name: Watch a 5-minute training video\n    points: 10",
    "name: Watch a 5-minute training video\n    points: 20",
)


def test_each_new_content_is_the_next_version(store: Store) -> None:
    first = publish_demo(store)
    second = publish_demo(store, VIDEOS_AT_20)

    assert (first.version, first.new) == (1, True)
    assert (second.version, second.new) == (2, True)
    assert [(v.version, v.active) for v in versions(store, PROGRAM)] == [(1, False), (2, True)]


def test_publishing_the_same_content_again_is_not_a_new_version(store: Store) -> None:
    first = publish_demo(store)

    again = publish_demo(store, "# a comment changes nothing\n" + DEMO_SOURCE)

    assert (again.version, again.new, again.hash) == (1, False, first.hash)
    assert [v.version for v in versions(store, PROGRAM)] == [1]


def test_republishing_earlier_content_makes_it_active_without_a_new_version(
    store: Store,
) -> None:
    publish_demo(store)
    publish_demo(store, VIDEOS_AT_20)

    again = publish_demo(store)

    assert (again.version, again.new) == (1, False)
    assert [(v.version, v.active) for v in versions(store, PROGRAM)] == [(1, True), (2, False)]


def test_rollback_makes_the_earlier_version_active(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, VIDEOS_AT_20)

    assert rollback(store, PROGRAM, clock=clock_at()) == 1

    assert [(v.version, v.active) for v in versions(store, PROGRAM)] == [(1, True), (2, False)]


def test_rollback_to_a_named_version(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, VIDEOS_AT_20)
    publish_demo(store, demo_with("points: 30", "points: 35"))

    assert rollback(store, PROGRAM, to=1, clock=clock_at()) == 1

    assert [v.version for v in versions(store, PROGRAM) if v.active] == [1]


def test_rollback_to_an_unknown_version_is_not_found_naming_version(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, VIDEOS_AT_20)

    with pytest.raises(NotFound) as raised:
        rollback(store, PROGRAM, to=7, clock=clock_at())

    assert raised.value.field == "version"
    assert "7" in raised.value.message
    assert [v.version for v in versions(store, PROGRAM) if v.active] == [2]


def test_events_are_evaluated_under_the_version_active_when_they_arrive(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, VIDEOS_AT_20)
    [under_v2] = send(store, video("v-1"))
    rollback(store, PROGRAM, to=1, clock=clock_at())

    [under_v1] = send(store, video("v-2", at=MONDAY + timedelta(minutes=10)))

    assert (under_v2.result["points"], under_v1.result["points"]) == (20, 10)
    assert [
        (line.event_id, line.kind, line.points, line.version) for line in ledger_of(store, "alice")
    ] == [
        ("v-1", "earn", 20, 2),
        ("v-1", "tier", 0, 2),
        ("v-2", "earn", 10, 1),
    ]
    log = projection(store)["log"]
    assert [(e["event_id"], e["program_version"]) for e in log] == [("v-1", 2), ("v-2", 1)]


def test_replay_keeps_each_event_under_its_own_version(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, VIDEOS_AT_20)
    send(store, video("v-1"))
    rollback(store, PROGRAM, to=1, clock=clock_at())
    send(store, video("v-2", at=MONDAY + timedelta(minutes=10)))
    before = projection(store)

    replay(store, PROGRAM, clock=clock_at())

    assert projection(store) == before
    earned = [line for line in ledger_of(store, "alice") if line.kind == "earn"]
    assert [(line.points, line.version) for line in earned] == [(20, 2), (10, 1)]


def test_a_recorded_simulation_is_found_by_its_program_hash_only(store: Store) -> None:
    published = publish_demo(store)
    with store.transaction() as uow:
        program = uow.programs.program_by_key(PROGRAM)
        assert program is not None
        uow.programs.record_simulation(program.id, "a" * 64, clock_at()(), '{"events": 3}')

    with store.read() as uow:
        assert uow.programs.simulated(program.id, "a" * 64)
        assert not uow.programs.simulated(program.id, published.hash)
