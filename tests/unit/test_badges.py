"""Badges: first action, Nth occurrence, N within a window, all of a set, points; periods."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.unit.builders import DAY, HOUR, T0, demo, event, every, of_kind, program, run


def badges_of(evaluation: Any) -> list[tuple[str, str, int, str]]:
    return [(e.rule, e.period, e.points, e.reason) for e in of_kind(evaluation.entries, "badge")]


def quizzes(*times: datetime):
    return [event("quiz.passed", t) for t in times]


def test_first_quiz_earns_certified_user():
    evaluation = run(demo(), quizzes(T0)).last
    assert badges_of(evaluation) == [("badge:certified_user", "", 0, "Certified User")]


def test_once_only_badge_is_not_awarded_twice():
    result = run(demo(), quizzes(T0, T0 + DAY))
    assert badges_of(result.last) == []
    assert list(result.state.badges) == [("certified_user", "")]


def counted_badge(count: int, **rule: Any):
    return program(
        {
            "actions": [{"key": "answer", "points": 20}],
            "badges": [
                {
                    "key": "helper",
                    "name": "Helper",
                    "when": {"action": "answer", "count": count, **rule},
                }
            ],
        }
    )


def test_third_answer_earns_a_badge_for_three():
    result = run(counted_badge(3), [event("answer", t) for t in every(T0, DAY, 3)])
    assert [len(of_kind(ev.entries, "badge")) for ev in result.evaluations] == [0, 0, 1]


def test_ten_answers_in_30_days_earn_top_contributor():
    answers = [event("community.answered", t) for t in every(T0, 3 * DAY, 10)]
    result = run(demo(), answers)
    assert badges_of(result.last) == [("badge:top_contributor", "", 0, "Top Contributor")]


def test_ten_answers_spread_over_more_than_30_days_earn_no_top_contributor():
    answers = [event("community.answered", t) for t in every(T0, 4 * DAY, 10)]
    result = run(demo(), answers)
    assert ("top_contributor", "") not in result.state.badges


def test_window_badge_counts_the_last_days_not_the_first():
    # Answers on days 0, 20, 40 and 55: no 30-day window holds three of them; day 56 makes it.
    prog = counted_badge(3, within="30d")
    days = [T0, T0 + 20 * DAY, T0 + 40 * DAY, T0 + 55 * DAY]
    result = run(prog, [event("answer", t) for t in days])
    assert [len(of_kind(ev.entries, "badge")) for ev in result.evaluations] == [0, 0, 0, 0]
    more = run(prog, [event("answer", T0 + 56 * DAY)], result.state)
    assert len(of_kind(more.last.entries, "badge")) == 1


def test_limited_occurrences_do_not_count_towards_a_badge():
    prog = program(
        {
            "actions": [
                {"key": "answer", "points": 1, "limits": {"cap": {"count": 1, "per": "day"}}}
            ],
            "badges": [{"key": "three", "name": "Three", "when": {"action": "answer", "count": 3}}],
        }
    )
    result = run(prog, [event("answer", t) for t in every(T0, HOUR, 3)])
    assert result.state.badges == {}


def test_lead_then_deal_earns_deal_maker_on_the_deal():
    result = run(
        demo(),
        [
            event("lead.registered", properties={"qualified": True}),
            event("deal.won", T0 + DAY, properties={"amount_usd": 10_000}),
        ],
    )
    assert badges_of(result.evaluations[0]) == []
    assert badges_of(result.last) == [("badge:deal_maker", "", 0, "Deal Maker")]


def test_10000_lifetime_points_earn_high_achiever_and_its_500_bonus():
    deal = event("deal.won", properties={"amount_usd": 1_000_000})
    evaluation = run(demo(), [deal]).last
    assert badges_of(evaluation) == [("badge:high_achiever", "", 500, "High Achiever")]
    assert (evaluation.state.balance, evaluation.state.lifetime) == (10_500, 10_500)


CHAIN = """
key: p
name: P
actions:
  - {key: quiz, points: 0}
badges:
  - {key: gold_star, name: Gold Star, when: {lifetime_points: 150}}
  - {key: first_quiz, name: First Quiz, points: 100, when: {action: quiz}}
  - {key: hundred, name: Hundred Club, points: 50, when: {lifetime_points: 100}}
"""


def test_badge_points_can_earn_the_next_points_badge():
    evaluation = run(program(CHAIN), [event("quiz")]).last
    assert [(e.rule, e.points) for e in of_kind(evaluation.entries, "badge")] == [
        ("badge:first_quiz", 100),
        ("badge:hundred", 50),
        ("badge:gold_star", 0),
    ]
    assert evaluation.state.lifetime == 150


YEARLY = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)


def test_yearly_badge_is_named_for_its_year():
    evaluation = run(demo(), quizzes(*every(YEARLY, 2 * HOUR, 5))).last
    assert ("badge:product_expert", "2025", 0, "Product Expert 2025") in badges_of(evaluation)


def test_yearly_badge_is_awarded_again_the_next_calendar_year():
    result = run(
        demo(),
        quizzes(*every(YEARLY, 2 * HOUR, 5), *every(YEARLY.replace(year=2026), 2 * HOUR, 5)),
    )
    expert = [
        e.period for e in of_kind(result.entries, "badge") if e.rule == "badge:product_expert"
    ]
    assert expert == ["2025", "2026"]


def test_yearly_badge_is_not_awarded_twice_in_one_year():
    result = run(demo(), quizzes(*every(YEARLY, 2 * HOUR, 10)))
    expert = [e for e in of_kind(result.entries, "badge") if e.rule == "badge:product_expert"]
    assert len(expert) == 1


def test_yearly_count_starts_again_in_january():
    # Three quizzes in December and two in January make five, but not five in one year.
    december = every(datetime(2025, 12, 20, 14, tzinfo=UTC), 2 * HOUR, 3)
    january = every(datetime(2026, 1, 5, 14, tzinfo=UTC), 2 * HOUR, 2)
    result = run(demo(), quizzes(*december, *january))
    assert [k for k in result.state.badges if k[0] == "product_expert"] == []


def test_yearly_period_is_the_year_in_the_program_time_zone():
    # 03:00 UTC on January 1st 2026 is still New Year's Eve 2025 in New York.
    times = [*every(datetime(2025, 12, 31, 14, tzinfo=UTC), 2 * HOUR, 4)]
    times.append(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))
    evaluation = run(demo(), quizzes(*times)).last
    assert [e.period for e in of_kind(evaluation.entries, "badge")] == ["2025"]


def test_monthly_points_badge_counts_only_that_months_points():
    prog = program(
        {
            "actions": [{"key": "act", "points": 60}],
            "badges": [
                {
                    "key": "busy",
                    "name": "Busy",
                    "repeat": "monthly",
                    "when": {"lifetime_points": 100},
                }
            ],
        }
    )
    times = ["2026-03-30T12:00:00Z", "2026-04-01T12:00:00Z", "2026-04-02T12:00:00Z"]
    result = run(prog, [event(at=t) for t in times])
    assert [e.period for e in of_kind(result.entries, "badge")] == ["2026-04"]
