"""Limits: calendar and rolling caps, cooldowns, once, lifetime caps; a limited event earns 0."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.unit.builders import DAY, HOUR, MINUTE, T0, event, every, one_action, program, run

VIDEO_CAP = {"points": 10, "limits": {"cap": {"count": 5, "per": "day"}}}


def videos(*times: datetime | str):
    return [event(at=t) for t in times]


def test_sixth_video_in_a_day_is_limited_with_zero_points():
    result = run(one_action(**VIDEO_CAP), videos(*every(T0, HOUR, 6)))
    sixth = result.last
    assert sixth.status.value == "limited"
    assert sixth.points == 0
    assert [(e.kind.value, e.rule, e.points, e.reason) for e in sixth.entries] == [
        ("limited", "action:act", 0, "cap: 5 per day reached (day 2026-03-02)")
    ]
    assert result.state.balance == 50


def test_cap_starts_again_the_next_day():
    result = run(one_action(**VIDEO_CAP), videos(*every(T0, HOUR, 5), T0 + DAY))
    assert result.last.points == 10


def test_limited_events_do_not_use_up_the_cap():
    result = run(one_action(**VIDEO_CAP), videos(*every(T0, HOUR, 8), *every(T0 + DAY, HOUR, 5)))
    assert [ev.points for ev in result.evaluations] == [10] * 5 + [0] * 3 + [10] * 5


def test_day_cap_follows_the_program_time_zone():
    prog = one_action(timezone="America/New_York", **VIDEO_CAP)
    # 2026-03-03T03:00Z is still 22:00 on March 2 in New York; 05:00Z is midnight, March 3.
    day = every(T0, HOUR, 5)
    late_evening = run(prog, videos(*day, "2026-03-03T03:00:00Z")).last
    next_morning = run(prog, videos(*day, "2026-03-03T05:00:00Z")).last
    assert late_evening.entries[0].reason == "cap: 5 per day reached (day 2026-03-02)"
    assert next_morning.points == 10


def test_late_event_lands_in_its_own_day():
    prog = one_action(**VIDEO_CAP)
    # Five videos on March 3 arrive first; one watched on March 2 arrives late.
    result = run(prog, videos(*every(T0 + DAY, HOUR, 5), T0))
    assert result.last.points == 10


def test_late_event_into_a_full_day_is_limited():
    prog = one_action(**VIDEO_CAP)
    result = run(prog, videos(*every(T0 + HOUR, HOUR, 5), T0))
    assert result.last.entries[0].reason == "cap: 5 per day reached (day 2026-03-02)"


def test_short_spring_forward_day_ends_at_local_midnight():
    # 2026-03-08 in New York is 23 hours long: 05:00Z to 04:00Z the next day.
    prog = one_action(timezone="America/New_York", **VIDEO_CAP)
    day = every(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), HOUR, 5)
    before_midnight = run(prog, videos(*day, "2026-03-09T03:30:00Z")).last
    after_midnight = run(prog, videos(*day, "2026-03-09T04:30:00Z")).last
    assert before_midnight.entries[0].reason == "cap: 5 per day reached (day 2026-03-08)"
    assert after_midnight.points == 10


def test_long_fall_back_day_ends_at_local_midnight():
    # 2026-11-01 in New York is 25 hours long: 04:00Z to 05:00Z the next day.
    prog = one_action(timezone="America/New_York", **VIDEO_CAP)
    day = every(datetime(2026, 11, 1, 4, 0, tzinfo=UTC), HOUR, 5)
    before_midnight = run(prog, videos(*day, "2026-11-02T04:30:00Z")).last
    after_midnight = run(prog, videos(*day, "2026-11-02T05:00:00Z")).last
    assert before_midnight.entries[0].reason == "cap: 5 per day reached (day 2026-11-01)"
    assert after_midnight.points == 10


def test_weekly_cap_counts_monday_to_sunday():
    prog = one_action(points=20, limits={"cap": {"count": 2, "per": "week"}})
    # T0 is Monday 2026-03-02; Sunday the 8th is the same ISO week, Monday the 9th is not.
    result = run(prog, videos(T0, T0 + DAY, T0 + 6 * DAY, T0 + 7 * DAY))
    assert [ev.points for ev in result.evaluations] == [20, 20, 0, 20]
    assert result.evaluations[2].entries[0].reason == "cap: 2 per week reached (week 2026-W10)"


def test_monthly_cap_counts_the_calendar_month():
    prog = one_action(points=50, limits={"cap": {"count": 1, "per": "month"}})
    result = run(prog, videos("2026-03-01T12:00:00Z", "2026-03-31T12:00:00Z", "2026-04-01T12:00Z"))
    assert [ev.points for ev in result.evaluations] == [50, 0, 50]
    assert result.evaluations[1].entries[0].reason == "cap: 1 per month reached (month 2026-03)"


ROLLING = {"points": 10, "limits": {"cap": {"count": 3, "per": "24h"}}}


def test_rolling_cap_limits_the_fourth_event_within_24_hours():
    result = run(one_action(**ROLLING), videos(*every(T0, 6 * HOUR, 4)))
    assert [ev.points for ev in result.evaluations] == [10, 10, 10, 0]
    assert (
        result.last.entries[0].reason == "cap: 3 per 24h reached (a 24h window around this event)"
    )


def test_rolling_cap_frees_a_slot_24_hours_after_the_first_event():
    result = run(one_action(**ROLLING), videos(*every(T0, HOUR, 3), T0 + DAY))
    assert result.last.points == 10


def test_rolling_cap_ignores_calendar_days():
    # Three events late on March 2 and one early on March 3 still fall inside 24 hours.
    result = run(one_action(**ROLLING), videos(*every(T0 + 8 * HOUR, HOUR, 3), T0 + 12 * HOUR))
    assert result.last.points == 0


def test_late_event_is_limited_by_a_rolling_cap_it_would_overfill():
    prog = one_action(points=10, limits={"cap": {"count": 1, "per": "24h"}})
    # Noon arrives first; the 06:00 event arrives late, within 24 hours of the noon one.
    result = run(prog, videos(T0 + 2 * HOUR, T0 - 4 * HOUR))
    assert [ev.points for ev in result.evaluations] == [10, 0]


COOLDOWN = {"points": 100, "limits": {"cooldown": "1h"}}


def test_repeat_inside_the_cooldown_is_limited():
    result = run(one_action(**COOLDOWN), videos(T0, T0 + 30 * MINUTE))
    assert result.last.points == 0
    assert result.last.entries[0].reason == "cooldown: 1h between rewarded occurrences"


def test_repeat_exactly_one_cooldown_later_is_rewarded():
    result = run(one_action(**COOLDOWN), videos(T0, T0 + HOUR))
    assert result.last.points == 100


def test_late_event_just_before_a_rewarded_one_is_limited_by_cooldown():
    result = run(one_action(**COOLDOWN), videos(T0, T0 - 30 * MINUTE))
    assert result.last.status.value == "limited"


def test_late_event_between_two_distant_ones_is_rewarded():
    result = run(one_action(**COOLDOWN), videos(T0, T0 + 4 * HOUR, T0 + 2 * HOUR))
    assert result.last.points == 100


def test_late_event_checks_the_neighbour_after_not_only_before():
    # Rewarded at 0h and 3h; a late one at 2.5h is far from 0h but too close to 3h.
    result = run(one_action(**COOLDOWN), videos(T0, T0 + 3 * HOUR, T0 + 150 * MINUTE))
    assert result.last.points == 0


def test_limited_event_does_not_restart_the_cooldown():
    result = run(one_action(**COOLDOWN), videos(T0, T0 + 50 * MINUTE, T0 + 61 * MINUTE))
    assert [ev.points for ev in result.evaluations] == [100, 0, 100]


def test_once_only_action_is_limited_the_second_time():
    result = run(one_action(points=30, limits={"once": True}), videos(T0, T0 + 30 * DAY))
    assert [ev.points for ev in result.evaluations] == [30, 0]
    assert result.last.entries[0].reason == "once: already rewarded"


def test_lifetime_cap_limits_the_occurrence_after_it():
    result = run(one_action(points=5, limits={"lifetime_cap": 3}), videos(*every(T0, DAY, 4)))
    assert [ev.points for ev in result.evaluations] == [5, 5, 5, 0]
    assert result.last.entries[0].reason == "lifetime cap: 3 reached"


def test_event_rewarded_by_one_action_and_limited_by_another_is_accepted():
    prog = program(
        {
            "actions": [
                {"key": "any_answer", "event": "answer", "points": 1},
                {"key": "daily_answer", "event": "answer", "points": 5, "limits": {"once": True}},
            ]
        }
    )
    result = run(prog, [event("answer"), event("answer", T0 + DAY)])
    second = result.last
    assert second.status.value == "accepted"
    assert [(e.kind.value, e.rule, e.points) for e in second.entries] == [
        ("earn", "action:any_answer", 1),
        ("limited", "action:daily_answer", 0),
    ]
