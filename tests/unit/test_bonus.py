"""Variable rewards: an action's weighted bonus table, drawn per event from a stable seed."""

from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
from collections import Counter
from typing import Any

import pytest

from accolade.engine.effects import Entry
from accolade.engine.evaluate import evaluate
from accolade.errors import InvalidProgram
from accolade.program.compile import compile_program
from accolade.program.compiled import CompiledProgram
from accolade.program.loader import load_program, program_hash
from tests.unit.builders import (
    HOUR,
    T0,
    event,
    every,
    member,
    of_kind,
    one_action,
    program,
    reverse,
    run,
    seen,
)

TABLE = [
    {"weight": 90, "points": 0},
    {"weight": 9, "points": 10},
    {"weight": 1, "points": 100},
]
# Every outcome pays, so every rewarded occurrence has a bonus entry.
ALWAYS = [{"weight": 3, "points": 10}, {"weight": 1, "points": 40}]

QUIZ = """
key: academy
name: Academy
actions:
  - key: quiz_passed
    event: quiz.passed
    points: 5
    bonus:
      - {weight: 90, points: 0}
      - {weight: 9, points: 10}
      - {weight: 1, points: 100}
"""


def bonus_points(entries: list[Entry] | tuple[Entry, ...]) -> int:
    return sum(e.points for e in of_kind(entries, "bonus"))


def draws(prog: CompiledProgram, ids: list[str], type: str = "act") -> list[int]:
    """The bonus each event id draws, each for a new member (nothing else in the way)."""
    return [bonus_points(evaluate(prog, member(), event(type, id=i)).entries) for i in ids]


def test_a_non_zero_draw_is_a_bonus_entry_after_the_earn_entry():
    evaluation = run(one_action(points=5, bonus=ALWAYS), [event(id="q-1")]).last
    earn, bonus = evaluation.entries[:2]
    assert (earn.kind.value, earn.rule, earn.points) == ("earn", "action:act", 5)
    assert (bonus.kind.value, bonus.rule, bonus.event_id) == ("bonus", "bonus:act", "q-1")
    assert bonus.points == bonus.lifetime_points
    assert bonus.points in (10, 40)
    assert evaluation.points == 5 + bonus.points


def test_the_reason_records_the_outcome_its_odds_and_the_roll():
    [bonus] = of_kind(run(one_action(bonus=ALWAYS), [event()]).entries, "bonus")
    match = re.fullmatch(r"bonus draw: \+(\d+) \((\d) in 4; roll (\d)\)", bonus.reason)
    assert match, bonus.reason
    points, weight, roll = map(int, match.groups())
    # Rolls 0-2 are the first outcome (weight 3, 10 points), roll 3 the second (weight 1, 40).
    assert (points, weight) == ((10, 3) if roll < 3 else (40, 1))
    assert points == bonus.points


def test_the_roll_is_recomputable_from_the_documented_seed():
    prog = compile_program(load_program(QUIZ), version=3, program_hash="ab" * 32)
    rolls = []
    for i in range(50):
        evaluation = evaluate(prog, member(), event("quiz.passed", id=f"quiz-{i}"))
        seed = json.dumps(
            ["bonus", "ab" * 32, 3, f"quiz-{i}", "quiz_passed"], separators=(",", ":")
        )
        want = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % 100
        rolls.append(want)
        for bonus in of_kind(evaluation.entries, "bonus"):
            assert bonus.reason.endswith(f"; roll {want})")
        expected = 0 if want < 90 else 10 if want < 99 else 100
        assert bonus_points(evaluation.entries) == expected
    assert len(set(rolls)) > 20  # the seed really varies with the event id


def test_an_event_id_beyond_ascii_is_hashed_as_utf_8_text_not_json_escapes():
    prog = compile_program(load_program(QUIZ), version=1, program_hash="cd" * 32)
    for i in range(20):
        event_id = f"café-{i}"
        seed = json.dumps(
            ["bonus", "cd" * 32, 1, event_id, "quiz_passed"],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        want = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big") % 100
        entries = evaluate(prog, member(), event("quiz.passed", id=event_id)).entries
        assert bonus_points(entries) == (0 if want < 90 else 10 if want < 99 else 100)


def test_the_same_event_draws_the_same_bonus_every_time_and_after_a_fresh_compile():
    ids = [f"e-{i}" for i in range(200)]
    first = draws(program(QUIZ), ids, "quiz.passed")

    again = draws(program(QUIZ), ids, "quiz.passed")

    assert again == first
    assert len(set(first)) == 3, "200 events should draw every outcome"


def test_draws_spread_over_the_outcomes_by_weight():
    prog = program(QUIZ)
    n = 10_000
    counts = Counter(draws(prog, [f"spread-{i}" for i in range(n)], "quiz.passed"))
    for outcome in TABLE:
        p = outcome["weight"] / 100
        # Six standard deviations of a binomial count: a fair draw falls outside about once
        # in 500 million runs; a draw that ignores a weight or an outcome misses by far more.
        tolerance = 6 * math.sqrt(n * p * (1 - p))
        assert abs(counts[outcome["points"]] - n * p) < tolerance, (outcome, counts)


RULES = ("bonus:first", "bonus:second")


def test_two_actions_on_one_event_draw_independently():
    table = [{"weight": 1, "points": 0}, {"weight": 1, "points": 10}]
    prog = program(
        {
            "actions": [
                {"key": "first", "event": "act", "bonus": table},
                {"key": "second", "event": "act", "bonus": table},
            ]
        }
    )
    pairs = []
    for i in range(400):
        entries = evaluate(prog, member(), event(id=f"both-{i}")).entries
        pairs.append(tuple(bonus_points([e for e in entries if e.rule == r]) for r in RULES))
    counts = Counter(pairs)
    # Independent fair coins: each of the four pairs about 100 times out of 400 (sd 8.7).
    assert set(counts) == {(0, 0), (0, 10), (10, 0), (10, 10)}
    assert all(50 < c < 150 for c in counts.values()), counts


def test_another_program_version_draws_afresh():
    ids = [f"v-{i}" for i in range(200)]
    v1 = draws(program(QUIZ, version=1), ids, "quiz.passed")

    v2 = draws(program(QUIZ, version=2), ids, "quiz.passed")

    assert v1 != v2


def test_a_zero_draw_writes_no_entry_and_no_note():
    prog = one_action(points=5, bonus=[{"weight": 1, "points": 0}, {"weight": 1, "points": 10}])
    result = run(prog, [event(id=f"z-{i}") for i in range(40)])
    zero = [ev for ev in result.evaluations if not of_kind(ev.entries, "bonus")]
    assert zero and len(zero) < 40, "40 fair draws should give both outcomes"
    for evaluation in zero:
        assert seen(evaluation.entries) == [("earn", "action:act", 5)]
        assert evaluation.notes == ()
    assert result.state.lifetime == 5 * 40 + 10 * (40 - len(zero))


def test_a_limited_occurrence_draws_no_bonus():
    prog = one_action(points=5, bonus=ALWAYS, limits={"once": True})

    result = run(prog, [event(), event()])

    assert [e.kind.value for e in result.evaluations[0].entries] == ["earn", "bonus"]
    assert seen(result.last.entries) == [("limited", "action:act", 0)]
    assert result.last.status.value == "limited"


def test_an_unmatched_action_draws_no_bonus():
    prog = one_action(points=5, bonus=ALWAYS, conditions=[{"property": "score", "gte": 80}])

    evaluation = run(prog, [event(properties={"score": 50})]).last

    assert evaluation.entries == ()


def test_bonus_points_are_not_multiplied():
    prog = one_action(
        points=10,
        bonus=ALWAYS,
        multipliers=[{"factor": 3, "conditions": [{"property": "launch", "eq": True}]}],
    )

    evaluation = run(prog, [event(properties={"launch": True})]).last

    [earn] = of_kind(evaluation.entries, "earn")
    [bonus] = of_kind(evaluation.entries, "bonus")
    assert earn.points == 30
    assert bonus.points in (10, 40)


CLIMB = {
    "actions": [
        {"key": "act", "bonus": [{"weight": 1, "points": 100}, {"weight": 1, "points": 300}]}
    ],
    "badges": [{"key": "centurion", "name": "Centurion", "when": {"lifetime_points": 100}}],
    "tiers": [
        {"key": "bronze", "name": "Bronze", "min_points": 0},
        {"key": "silver", "name": "Silver", "min_points": 100},
    ],
}


def test_bonus_points_count_toward_lifetime_balance_month_badges_and_tiers():
    result = run(program(CLIMB), [event(at=T0)])

    drawn = bonus_points(result.entries)
    assert drawn in (100, 300)
    state = result.state
    assert (state.lifetime, state.balance) == (drawn, drawn)
    assert state.monthly_points == {"2026-03": drawn}
    assert ("centurion", "") in state.badges
    assert state.tier == "silver"
    assert [e.rule for e in result.entries] == [
        "action:act",
        "bonus:act",
        "badge:centurion",
        "tier:silver",
    ]


def test_reversal_takes_the_bonus_back():
    prog = one_action(points=5, bonus=ALWAYS)
    events = [event(id="q-1"), event(id="q-2")]

    before, after = reverse(prog, events, "q-1", "cheated")

    taken = bonus_points(before.evaluations[0].entries)
    why = "reversal of event q-1: cheated"
    assert [(e.event_id, e.kind.value, e.rule, e.points, e.reason) for e in after.entries] == [
        ("q-1", "reversal", "action:act", -5, why),
        ("q-1", "reversal", "bonus:act", -taken, why),
    ]
    kept = 5 + bonus_points(before.evaluations[1].entries)
    assert (after.state.lifetime, after.state.balance) == (kept, kept)


def test_an_occurrence_freed_by_a_reversal_gets_its_bonus_on_re_evaluation():
    prog = one_action(points=5, bonus=ALWAYS, limits={"cap": {"count": 2, "per": "day"}})
    events = [event(at=t, id=f"c-{i}") for i, t in enumerate(every(T0, HOUR, 3))]

    before, after = reverse(prog, events, "c-0")

    assert before.evaluations[2].status.value == "limited"
    # c-2 draws what it would have drawn had it been rewarded on arrival.
    unlimited = bonus_points(run(prog, [events[2]]).entries)
    adjusted = [(e.event_id, e.kind.value, e.rule, e.points) for e in after.entries]
    assert adjusted[-2:] == [
        ("c-2", "adjustment", "action:act", 5),
        ("c-2", "adjustment", "bonus:act", unlimited),
    ]
    assert after.state.lifetime == sum(e.points for e in before.entries) + sum(
        e.points for e in after.entries
    )


def test_expected_value_and_odds_in_words():
    prog = program(QUIZ)
    table = prog.actions["quiz_passed"].bonus
    assert table is not None
    assert table.summary() == ("bonus expected +1.9 per rewarded event (90% +0, 9% +10, 1% +100)")


def test_odds_that_are_not_whole_percents_are_rounded_to_two_decimals():
    prog = one_action(bonus=[{"weight": 2, "points": 0}, {"weight": 1, "points": 1000}])
    table = prog.actions["act"].bonus
    assert table is not None
    assert table.summary() == (
        "bonus expected +333.33 per rewarded event (66.67% +0, 33.33% +1,000)"
    )


def errors_of(bonus: Any) -> list[str]:
    text = textwrap.dedent(
        """
        key: p
        name: P
        actions:
          - key: quiz_passed
            points: 5
        """
    )
    raw = load_program(text).model_dump(mode="json", by_alias=True)
    raw["actions"][0]["bonus"] = bonus
    with pytest.raises(InvalidProgram) as caught:
        load_program(json.dumps(raw))
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("bonus", "errors"),
    [
        (
            [{"weight": 1, "points": 10}, {"weight": 0, "points": 5}],
            ["actions[0].bonus[1].weight: must be >= 1"],
        ),
        (
            [{"weight": 1, "points": -10}, {"weight": 1, "points": 5}],
            ["actions[0].bonus[0].points: must be >= 0"],
        ),
        (
            [{"weight": 1_000_001, "points": 10}, {"weight": 1, "points": 5.5}],
            [
                "actions[0].bonus[0].weight: must be <= 1000000",
                "actions[0].bonus[1].points: must be a whole number",
            ],
        ),
        (
            [{"wieght": 1, "points": 10}, {"weight": 1, "points": 0}],
            [
                "actions[0].bonus[0].weight: is required",
                "actions[0].bonus[0].wieght: unknown key 'wieght' (did you mean 'weight'?)",
            ],
        ),
        (
            [{"weight": 1, "points": 10}],
            ["actions[0].bonus: give at least 2 outcomes (a fixed amount belongs in 'points')"],
        ),
        ([], ["actions[0].bonus: give at least 2 outcomes (a fixed amount belongs in 'points')"]),
        (
            [{"weight": 9, "points": 0}, {"weight": 1, "points": 0}],
            ["actions[0].bonus: every outcome gives 0 points: the bonus would never pay"],
        ),
        ({"weight": 1, "points": 10}, ["actions[0].bonus: must be a list"]),
    ],
)
def test_a_bad_bonus_is_named_by_its_path(bonus: Any, errors: list[str]):
    assert errors_of(bonus) == errors


def test_a_program_without_a_bonus_keeps_the_content_hash_it_had_before_the_key():
    # The hash is taken over the dumped definition: an absent bonus must not appear in it,
    # or every stored version would stop matching its own file.
    plain = load_program(QUIZ.split("    bonus:")[0])
    assert "bonus" not in plain.model_dump(mode="json", by_alias=True)["actions"][0]
    assert program_hash(load_program(QUIZ)) != program_hash(plain)
