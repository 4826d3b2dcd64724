"""reconcile(): a reversal compensates points, frees caps, revokes badges and moves tiers."""

from __future__ import annotations

from typing import Any

from accolade.engine.reconcile import reconcile, totals_of
from tests.unit.builders import DAY, HOUR, T0, demo, event, every, of_kind, program, reverse, run

WHY = "reversal of event lead-1: lead disqualified"


def lines(entries: Any) -> list[tuple[str, str, str, int, str]]:
    return [(e.event_id, e.kind.value, e.rule, e.points, e.reason) for e in entries]


def lead(id: str = "lead-1", at: Any = T0):
    return event("lead.registered", at, id=id, properties={"qualified": True})


def test_reversing_an_event_compensates_its_points():
    quiz = event("quiz.passed", T0 + DAY, id="quiz-1")
    before, after = reverse(demo(), [lead(), quiz], "lead-1")
    assert lines(after.entries) == [
        ("lead-1", "reversal", "action:lead_registered", -500, WHY),
    ]
    assert after.status.value == "reversed"
    assert (after.state.balance, after.state.lifetime) == (100, 100)
    assert before.state.balance == 600


def test_reversal_keeps_points_already_spent_spent():
    prog = demo()
    events = [lead(), event("quiz.passed", T0 + DAY)]
    before = run(prog, events)
    before.state.balance -= 50  # a reward redeemed
    after = reconcile(
        {1: prog},
        [(events[1], 1)],
        before.state,
        totals_of(before.entries),
        "lead-1",
        "lead disqualified",
        1,
    )
    assert (after.state.balance, after.state.lifetime) == (50, 100)


def test_capped_event_gets_an_adjustment_when_a_slot_frees():
    videos = [
        event("video.watched", t, id=f"v{i}", properties={"duration_seconds": 300})
        for i, t in enumerate(every(T0, HOUR, 6), start=1)
    ]
    before, after = reverse(demo(), videos, "v1", "watched by a bot")
    assert before.evaluations[5].status.value == "limited"
    why = "reversal of event v1: watched by a bot"
    assert lines(after.entries) == [
        ("v1", "reversal", "action:video_watched", -10, why),
        ("v6", "adjustment", "action:video_watched", 10, f"re-evaluated after {why}"),
    ]
    assert after.state.balance == 50


def test_badge_that_depended_on_the_reversed_event_is_revoked():
    quiz = event("quiz.passed", T0, id="quiz-1")
    _, after = reverse(demo(), [quiz], "quiz-1", "cheated")
    [revoked] = of_kind(after.entries, "badge_revoked")
    assert (revoked.event_id, revoked.rule, revoked.reason) == (
        "quiz-1",
        "badge:certified_user",
        "no longer earned after reversal of event quiz-1: cheated",
    )
    assert ("certified_user", "") not in after.state.badges


def test_deal_maker_is_revoked_when_its_lead_is_reversed():
    deal = event("deal.won", T0 + DAY, id="deal-1", properties={"amount_usd": 10_000})
    _, after = reverse(demo(), [lead(), deal], "lead-1")
    assert [(e.event_id, e.rule) for e in of_kind(after.entries, "badge_revoked")] == [
        ("deal-1", "badge:deal_maker")
    ]


def test_revoked_badge_takes_its_bonus_points_back():
    prog = program(
        {
            "actions": [{"key": "sale", "points_from": {"property": "usd", "per": 1}}],
            "badges": [
                {"key": "big", "name": "Big", "points": 500, "when": {"lifetime_points": 1000}}
            ],
        }
    )
    first = event("sale", T0, id="s1", properties={"usd": 600})
    second = event("sale", T0 + DAY, id="s2", properties={"usd": 600})
    before, after = reverse(prog, [first, second], "s1", "refunded")
    assert before.state.balance == 1700
    assert [(e.event_id, e.kind.value, e.rule, e.points) for e in after.entries] == [
        ("s1", "reversal", "action:sale", -600),
        ("s2", "adjustment", "badge:big", -500),
        ("s2", "badge_revoked", "badge:big", 0),
    ]
    assert after.state.balance == 600


def test_tier_drops_with_the_reason_and_the_reversal_named():
    quizzes = [event("quiz.passed", t) for t in every(T0 + DAY, 2 * HOUR, 45)]
    before, after = reverse(demo(), [lead(), *quizzes], "lead-1")
    assert before.state.tier == "silver"
    assert [(e.rule, e.reason) for e in of_kind(after.entries, "tier")] == [
        ("tier:bronze", f"back to Bronze: 4,500 lifetime points < Silver's 5,000 ({WHY})")
    ]
    assert after.state.tier == "bronze"


def test_reversing_the_only_event_of_a_silver_member_drops_them_to_bronze():
    deal = event("deal.won", T0, id="deal-1", properties={"amount_usd": 600_000})
    before, after = reverse(demo(), [deal], "deal-1", "deal fell through")
    assert before.state.tier == "silver"
    assert [e.rule for e in of_kind(after.entries, "tier")] == ["tier:bronze"]
    assert after.state.tier == "bronze"


def test_tier_drop_under_a_qualification_window_counts_window_points():
    prog = program(
        {
            "actions": [{"key": "act", "points_from": {"property": "points", "per": 1}}],
            "tiers": [
                {"key": "bronze", "name": "Bronze", "min_points": 0},
                {"key": "silver", "name": "Silver", "min_points": 5000},
            ],
            "tier_qualification": {"months": 12},
        }
    )
    events = [
        event(at="2024-01-15T12:00:00Z", id="old", properties={"points": 10_000}),
        event(at="2025-06-15T12:00:00Z", id="small", properties={"points": 100}),
        event(at="2025-07-15T12:00:00Z", id="big", properties={"points": 5_000}),
    ]
    before, after = reverse(prog, events, "big", "fraud")
    assert before.state.tier == "silver"
    assert [e.reason for e in of_kind(after.entries, "tier")] == [
        "back to Bronze: 100 points earned in the last 12 months < Silver's 5,000 "
        "(reversal of event big: fraud)"
    ]


def test_reversing_a_limited_event_changes_nothing():
    videos = [
        event("video.watched", t, id=f"v{i}", properties={"duration_seconds": 300})
        for i, t in enumerate(every(T0, HOUR, 6), start=1)
    ]
    before, after = reverse(demo(), videos, "v6", "duplicate upload")
    assert after.entries == ()
    assert after.state.balance == before.state.balance == 50


def test_second_reversal_after_the_first_is_applied_compensates_only_the_new_event():
    prog = demo()
    quiz = event("quiz.passed", T0 + DAY, id="quiz-1")
    events = [lead(), quiz]
    before, first = reverse(prog, events, "lead-1")
    ledger = before.entries + list(first.entries)
    second = reconcile({1: prog}, [], first.state, totals_of(ledger), "quiz-1", "cheated", 1)
    assert [(e.event_id, e.kind.value, e.rule, e.points) for e in second.entries] == [
        ("quiz-1", "reversal", "action:quiz_passed", -100),
        ("quiz-1", "badge_revoked", "badge:certified_user", 0),
    ]
    assert second.state.balance == 0
