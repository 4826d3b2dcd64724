"""The partitions of a board's window, as a partition switcher offers them (values as text,
the form a board page is asked for)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accolade.errors import InvalidInput, NotFound
from accolade.service import leaderboards as lb
from accolade.service.ingest import ingest_batch
from accolade.store.unit_of_work import Store
from tests.programs import MEMBER_GOLD, program_head

from .builders import clock_at, publish_demo

PROGRAM = (
    program_head("advocates", "Advocates", timezone="UTC", tiers=MEMBER_GOLD)
    + """
actions:
  - {key: story, event: story.submitted, points: 100}
leaderboards:
  - {key: all_time, name: All time}
  - {key: regional, name: By region, window: month, partition: [region, partner]}
"""
)
NOW = datetime(2026, 8, 12, 16, tzinfo=UTC)


def story(id: str, member: str, attributes: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "id": id,
        "type": "story.submitted",
        "member": member,
        "occurred_at": at.isoformat(),
        "attributes": attributes,
    }


def test_a_windows_partitions_are_listed_as_text(store: Store) -> None:
    publish_demo(store, PROGRAM)
    events = [
        story("a", "a", {"region": "EMEA", "partner": True}, NOW - timedelta(days=1)),
        story("b", "b", {"region": "APAC", "partner": False}, NOW - timedelta(days=1)),
        story("c", "c", {"region": "EMEA", "partner": True}, NOW - timedelta(days=1)),
        story("d", "d", {"region": "AMER", "partner": 3}, NOW - timedelta(days=40)),
    ]
    ingest_batch(store, "advocates", list(enumerate(events, 1)), clock=clock_at(NOW))
    found = lb.partitions(store, "advocates", "regional", clock=clock_at(NOW))
    assert sorted(found, key=str) == [
        {"region": "APAC", "partner": "false"},
        {"region": "EMEA", "partner": "true"},
    ]
    earlier = lb.partitions(store, "advocates", "regional", window="2026-07", clock=clock_at(NOW))
    assert earlier == [{"region": "AMER", "partner": "3"}]
    # each is a partition the board can be read in
    page = lb.top(store, "advocates", "regional", partition=found[0], clock=clock_at(NOW))
    assert page.total >= 1
    assert lb.partitions(store, "advocates", "all_time", clock=clock_at(NOW)) == []
    assert (
        lb.partitions(store, "advocates", "regional", window="2026-01", clock=clock_at(NOW)) == []
    )


def test_an_unknown_board_or_window_is_named(store: Store) -> None:
    publish_demo(store, PROGRAM)
    with pytest.raises(NotFound) as board:
        lb.partitions(store, "advocates", "nope", clock=clock_at(NOW))
    with pytest.raises(InvalidInput) as window:
        lb.partitions(store, "advocates", "regional", window="june", clock=clock_at(NOW))
    assert (board.value.field, window.value.field) == ("leaderboard", "window")
