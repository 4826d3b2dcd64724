"""Invariants over random event sequences on the demo program (Hypothesis)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from accolade.engine.evaluate import evaluate
from accolade.engine.events import Event, parse_event
from accolade.engine.reconcile import totals_of
from tests.unit.builders import T0, demo, event, member, program, reverse, run

PROGRAM = demo()

_properties: dict[str, Any] = {
    "video.watched": st.fixed_dictionaries({"duration_seconds": st.integers(200, 400)}),
    "profile.completed": st.just({}),
    "quiz.passed": st.just({}),
    "lead.registered": st.fixed_dictionaries({"qualified": st.booleans()}),
    "deal.won": st.fixed_dictionaries({"amount_usd": st.integers(0, 3_000_000)}),
    "community.answered": st.just({}),
}


@st.composite
def activity(draw: st.DrawFn, who: str = "m1", prefix: str = "e") -> list[Event]:
    """Events of one member, in arrival order (some late), over about two months."""
    count = draw(st.integers(1, 25))
    out = []
    for i in range(count):
        type = draw(st.sampled_from(sorted(_properties)))
        minutes = draw(st.integers(0, 60 * 24 * 60))
        out.append(
            event(
                type,
                T0 + timedelta(minutes=minutes),
                id=f"{prefix}{i}",
                member=who,
                properties=draw(_properties[type]),
            )
        )
    return out


@settings(max_examples=150)
@given(activity())
def test_balance_and_lifetime_equal_the_sum_of_the_ledger(events: list[Event]):
    result = run(PROGRAM, events)
    assert result.state.balance == sum(e.points for e in result.entries)
    assert result.state.lifetime == sum(e.lifetime_points for e in result.entries)


@settings(max_examples=100)
@given(activity())
def test_limited_entries_never_carry_points(events: list[Event]):
    limited = [e for e in run(PROGRAM, events).entries if e.kind.value == "limited"]
    assert all(e.points == 0 and e.lifetime_points == 0 for e in limited)


@settings(max_examples=100)
@given(activity())
def test_evaluation_is_deterministic(events: list[Event]):
    first, second = run(PROGRAM, events), run(PROGRAM, events)
    assert first.entries == second.entries
    assert first.state == second.state


@settings(max_examples=100)
@given(activity(), st.data())
def test_evaluate_never_changes_the_state_it_is_given(events: list[Event], data: st.DataObject):
    split = data.draw(st.integers(0, len(events) - 1))
    state = run(PROGRAM, events[:split]).state
    snapshot = copy.deepcopy(state)
    evaluate(PROGRAM, state, events[split])
    assert state == snapshot


@settings(max_examples=100)
@given(activity("ada", "a"), activity("bob", "b"), st.randoms(use_true_random=False))
def test_order_of_distinct_members_does_not_matter(ada: list[Event], bob: list[Event], rnd: Any):
    # Interleave the two members' events at random, keeping each member's own order.
    slots = ["ada"] * len(ada) + ["bob"] * len(bob)
    rnd.shuffle(slots)
    queues = {"ada": iter(ada), "bob": iter(bob)}
    states = {"ada": member("ada"), "bob": member("bob")}
    for who in slots:
        states[who] = evaluate(PROGRAM, states[who], next(queues[who])).state
    assert states["ada"] == run(PROGRAM, ada, member("ada")).state
    assert states["bob"] == run(PROGRAM, bob, member("bob")).state


@settings(max_examples=100)
@given(activity(), st.data())
def test_reversal_leaves_the_ledger_as_if_the_event_never_arrived(
    events: list[Event], data: st.DataObject
):
    target = data.draw(st.sampled_from(events)).id
    before, after = reverse(PROGRAM, events, target, "test")
    without = run(PROGRAM, [e for e in events if e.id != target])

    def nonzero(totals: dict[Any, tuple[int, int]]) -> dict[Any, tuple[int, int]]:
        return {k: v for k, v in totals.items() if v != (0, 0)}

    ledger = totals_of(before.entries + list(after.entries))
    assert nonzero(ledger) == nonzero(totals_of(without.entries))
    assert after.state.balance == without.state.balance
    assert after.state.lifetime == without.state.lifetime
    assert after.state.badges == without.state.badges


def _example_stream(program_file: str, events_file: str) -> tuple[Any, list[Event]]:
    """An example program and its example events, all sent as one member's (quests,
    challenges and their badges then move on the same state)."""
    root = Path(__file__).parents[2] / "examples"
    compiled = program((root / program_file).read_text())
    lines = (root / events_file).read_text().splitlines()
    return compiled, [parse_event({**json.loads(line), "member": "m1"}) for line in lines if line]


EXAMPLES = [
    _example_stream("onboarding-quest.yaml", "onboarding-events.jsonl"),
    _example_stream("rewards.yaml", "rewards-events.jsonl"),
    _example_stream("leaderboards.yaml", "leaderboards-events.jsonl"),
]


@settings(max_examples=100)
@given(st.sampled_from(EXAMPLES), st.randoms(use_true_random=False))
def test_evaluate_never_changes_the_state_it_is_given_whatever_the_mechanic(
    example: tuple[Any, list[Event]], rnd: Any
):
    """Copy on write holds in every mechanic (quests, challenges, boards, badges): evaluating
    any event of the stream leaves the state before it as it was."""
    compiled, events = example
    shuffled = rnd.sample(events, len(events))
    state = member("m1")
    for next_event in shuffled:
        snapshot = copy.deepcopy(state)
        state_after = evaluate(compiled, state, next_event).state
        assert state == snapshot
        state = state_after
