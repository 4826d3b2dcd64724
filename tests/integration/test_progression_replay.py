"""Every progression mechanic at once (the benchmark's program: quests, challenges, a streak,
stages, on the demo stream): replay rebuilds exactly what ingest wrote, and a reversal in the
middle leaves the same state as never having sent the event."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from accolade.sample_events import generate_events
from accolade.service.ingest import ingest
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import assert_balances_match_ledger, clock_at, projection, publish_demo

_spec = importlib.util.spec_from_file_location(
    "progression", Path(__file__).parents[2] / "bench" / "progression.py"
)
assert _spec is not None and _spec.loader is not None
progression = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(progression)
SOURCE = yaml.safe_dump(progression.progression_program(), sort_keys=False)


def test_replay_rebuilds_every_mechanic_exactly(store: Store) -> None:
    publish_demo(store, SOURCE)
    events = list(generate_events(3000, 60, seed=11))
    report = ingest(store, "partner", list(enumerate(events, 1)), chunk_size=500, clock=clock_at())
    assert report.rejected == 0
    reverse(store, "partner", events[1500]["id"], "sent by mistake", clock=clock_at())
    before = projection(store)
    kinds = {line.kind for lines in before["ledger"].values() for line in lines}
    assert {"quest", "challenge", "streak", "stage"} <= kinds
    replay(store, "partner", clock=clock_at())
    assert projection(store) == before
    assert_balances_match_ledger(store)
