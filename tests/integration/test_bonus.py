"""Variable rewards through the store: the draw is on the event's result and ledger, and replay
and reversal reproduce it from the version each event was evaluated under."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import (
    MONDAY,
    PROGRAM,
    assert_balances_match_ledger,
    clock_at,
    demo_with,
    ledger_of,
    member_row,
    projection,
    publish_demo,
    quiz,
    quizzes,
    send,
)
from .test_replay import ingest_sample, reverse_some

LATER = MONDAY + timedelta(days=200)
COOLDOWN = "      cooldown: 1h                     # re-taking the same quiz a minute later earns nothing\n"


def with_bonus(*outcomes: tuple[int, int]) -> str:
    """The demo program with a bonus on quiz_passed: (weight, points) outcomes."""
    lines = "".join(f"      - {{weight: {w}, points: {p}}}\n" for w, p in outcomes)
    return demo_with(COOLDOWN, f"{COOLDOWN}    bonus:\n{lines}")


# Half the quizzes draw a bonus; every outcome that pays is different.
BONUS = with_bonus((2, 0), (1, 25), (1, 250))


def bonus_lines(store: Store, member: str = "alice"):
    return [line for line in ledger_of(store, member) if line.rule == "bonus:quiz_passed"]


def test_ingest_shows_the_bonus_entry_in_the_event_result(store: Store) -> None:
    publish_demo(store, BONUS)

    outcomes = send(store, *quizzes(20))

    with_bonus_entry = 0
    for outcome in outcomes:
        entries = outcome.result["entries"]
        bonuses = [e for e in entries if e["kind"] == "bonus"]
        assert [e["rule"] for e in entries[: 1 + len(bonuses)]] == ["action:quiz_passed"] + [
            "bonus:quiz_passed"
        ] * len(bonuses)
        for bonus in bonuses:
            assert bonus["points"] in (25, 250)
            assert re.fullmatch(r"bonus draw: \+\d+ \(1 in 4; roll [23]\)", bonus["reason"])
        with_bonus_entry += len(bonuses)
    assert 0 < with_bonus_entry < 20, "20 quizzes at even odds should draw both ways"
    row = member_row(store, "alice")
    assert row.lifetime == sum(o.result["points"] for o in outcomes)
    assert len(bonus_lines(store)) == with_bonus_entry
    assert_balances_match_ledger(store)


def test_a_duplicate_returns_the_first_result_with_its_bonus(store: Store) -> None:
    publish_demo(store, BONUS)
    first = send(store, *quizzes(8))
    [drawn] = [o for o in first if any(e["kind"] == "bonus" for e in o.result["entries"])][:1]

    [again] = send(store, quiz(drawn.event_id, at=MONDAY), when=LATER)

    assert again.result == {"status": "duplicate", "first": drawn.result}


def test_the_roll_on_the_ledger_is_recomputable_from_the_published_version(store: Store) -> None:
    published = publish_demo(store, BONUS)
    send(store, *quizzes(12))

    lines = bonus_lines(store)

    assert lines
    for line in lines:
        seed = json.dumps(
            ["bonus", published.hash, published.version, line.event_id, "quiz_passed"],
            separators=(",", ":"),
        )
        roll = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % 4
        assert line.reason.endswith(f"; roll {roll})"), line
        assert line.version == published.version


def test_reversal_takes_the_bonus_back(store: Store) -> None:
    publish_demo(store, with_bonus((1, 25), (1, 250)))
    [outcome] = send(store, quiz("q-1"))
    [drawn] = [e["points"] for e in outcome.result["entries"] if e["kind"] == "bonus"]

    reverse(store, PROGRAM, "q-1", "cheated", clock=clock_at(LATER))

    reversed_bonus = [
        (line.kind, line.cause, line.points, line.lifetime_points)
        for line in bonus_lines(store)
        if line.kind == "reversal"
    ]
    assert reversed_bonus == [("reversal", "reversal:q-1", -drawn, -drawn)]
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance) == (0, 0)
    assert_balances_match_ledger(store)


def test_replay_rebuilds_the_same_ledger_with_its_bonus_entries(store: Store) -> None:
    publish_demo(store, BONUS)
    stream = ingest_sample(store)
    reversed_ids = reverse_some(store, stream)
    drawn = {line.event_id for m in {e["member"] for e in stream} for line in bonus_lines(store, m)}
    for event_id in sorted(drawn - set(reversed_ids))[:3]:
        reverse(store, PROGRAM, event_id, "quiz leaked", clock=clock_at(LATER))
    before = projection(store)

    replay(store, PROGRAM, chunk_size=50, clock=clock_at(LATER))

    assert projection(store) == before
    kinds = {
        line.kind
        for lines in before["ledger"].values()
        for line in lines
        if line.rule.startswith("bonus:")
    }
    assert kinds == {"bonus", "reversal"}, "the sample should draw bonuses and reverse some"
    assert_balances_match_ledger(store)


def test_replay_draws_each_event_under_the_version_it_arrived_under(store: Store) -> None:
    publish_demo(store, BONUS)
    send(store, *quizzes(10))
    publish_demo(store, with_bonus((1, 0), (1, 30), (1, 300)))
    send(store, *quizzes(10, start=MONDAY + timedelta(days=2), prefix="later"))
    before = projection(store)

    replay(store, PROGRAM, clock=clock_at(LATER))

    assert projection(store) == before
    drawn = {(line.version, line.points) for line in bonus_lines(store)}
    assert {v for v, _ in drawn} == {1, 2}
    assert all(points in ((25, 250) if v == 1 else (30, 300)) for v, points in drawn)
