"""The demo partner program (examples/partner-program.yaml) with the seed article's figures."""

from __future__ import annotations

from tests.unit.builders import DAY, HOUR, MINUTE, T0, demo, event, every, of_kind, reverse, run


def test_six_five_minute_videos_in_a_day_earn_50_points_under_the_cap_of_5():
    videos = [
        event("video.watched", t, properties={"duration_seconds": 300}) for t in every(T0, HOUR, 6)
    ]
    result = run(demo(), videos)
    assert result.state.balance == 50
    assert [ev.status.value for ev in result.evaluations] == ["accepted"] * 5 + ["limited"]
    assert [e.reason for e in of_kind(result.last.entries, "limited")] == [
        "cap: 5 per day reached (day 2026-03-02)"
    ]


def test_short_video_earns_nothing():
    result = run(demo(), [event("video.watched", properties={"duration_seconds": 299})])
    assert result.state.balance == 0


def certified_partner():
    lead = event("lead.registered", T0, id="lead-1", properties={"qualified": True})
    # Quizzes spaced 61 minutes apart, just outside the 1h cooldown.
    quizzes = [event("quiz.passed", t) for t in every(T0 + DAY, HOUR + MINUTE, 45)]
    return [lead, *quizzes]


def test_one_lead_and_45_certifications_reach_silver_at_exactly_5000():
    result = run(demo(), certified_partner())
    assert result.state.lifetime == 5_000
    assert result.state.tier == "silver"
    assert [e.reason for e in of_kind(result.last.entries, "tier")] == [
        "reached Silver: 5,000 lifetime points >= 5,000"
    ]
    assert [e.points for e in of_kind(result.entries, "limited")] == []


def test_reversing_the_lead_drops_the_partner_back_to_bronze_saying_why():
    before, after = reverse(demo(), certified_partner(), "lead-1", "lead disqualified")
    assert before.state.tier == "silver"
    assert [(e.kind.value, e.rule, e.points) for e in after.entries] == [
        ("reversal", "action:lead_registered", -500),
        ("tier", "tier:bronze", 0),
    ]
    [tier] = of_kind(after.entries, "tier")
    assert tier.reason == (
        "back to Bronze: 4,500 lifetime points < Silver's 5,000 "
        "(reversal of event lead-1: lead disqualified)"
    )
    assert (after.state.tier, after.state.balance, after.state.lifetime) == ("bronze", 4_500, 4_500)
