"""Challenges: a goal in a window, for a segment, with a reward (seed 001's customer stories)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accolade.engine.challenges import challenge_progress
from accolade.engine.entitlements import entitlements
from accolade.errors import InvalidEvent, InvalidProgram
from tests.unit.builders import DAY, event, of_kind, program, reverse, run

Q3 = datetime(2026, 7, 15, 15, 0, tzinfo=UTC)
STORIES = """
key: advocates
name: Advocates
timezone: America/New_York
actions:
  - {key: story_submitted, event: story.submitted, points: 100}
  - {key: deal_won, event: deal.won}
  - {key: review_posted, event: review.posted, points: 50}
tiers:
  - {key: member, name: Member, min_points: 0}
  - {key: gold, name: Gold, min_points: 1000}
challenges:
  - key: story_q3
    name: Submit a customer story this quarter
    starts: 2026-07-01
    ends: 2026-09-30
    goal: {action: story_submitted}
    segment:
      - {attribute: role, eq: advocate}
    reward: {points: 500, entitlements: {co_marketing: true}}
  - key: pipeline
    name: Close 100k of pipeline in August
    starts: 2026-08-01
    ends: 2026-08-31
    goal: {action: deal_won, sum: amount, target: 100000}
    award: {first: 2}
    reward: {points: 1000}
  - key: points_sprint
    name: Earn 300 points in September
    starts: 2026-09-01T00:00:00
    ends: 2026-10-01T00:00:00
    goal: {points: 300}
    tiers: [gold]
    reward: {points: 50}
"""
ADVOCATE = {"role": "advocate"}


def story(at=Q3, attributes=ADVOCATE, **kw):
    return event("story.submitted", at, attributes=attributes, **kw)


def test_a_story_in_the_quarter_earns_the_500_point_reward():
    prog = program(STORIES)
    done = run(prog, [story()])
    assert done.state.lifetime == 100 + 500
    [reward] = of_kind(done.entries, "challenge")
    assert (reward.rule, reward.points) == ("challenge:story_q3", 500)
    assert entitlements(prog, done.state) == {"co_marketing": True}


def test_a_story_after_the_quarter_ends_earns_nothing_from_the_challenge():
    prog = program(STORIES)
    # 2026-10-01 00:30 in New York is after the inclusive end date 2026-09-30
    late = run(prog, [story(at=datetime(2026, 10, 1, 4, 30, tzinfo=UTC))])
    assert late.state.lifetime == 100 and of_kind(late.entries, "challenge") == []
    on_time = run(prog, [story(at=datetime(2026, 10, 1, 3, 30, tzinfo=UTC))])  # 23:30 Sep 30
    assert on_time.state.lifetime == 600


def test_a_member_outside_the_segment_earns_nothing_and_sees_no_challenge():
    prog = program(STORIES)
    outsider = run(prog, [story(attributes={"role": "admin"})])
    assert outsider.state.lifetime == 100
    seen = [c.key for c in challenge_progress(prog, outsider.state, int(Q3.timestamp()))]
    assert "story_q3" not in seen
    insider = run(prog, [event("review.posted", Q3, attributes=ADVOCATE)])
    assert "story_q3" in [
        c.key for c in challenge_progress(prog, insider.state, int(Q3.timestamp()))
    ]


def test_the_reward_is_paid_once_however_many_stories():
    prog = program(STORIES)
    done = run(prog, [story(), story(at=Q3 + DAY)])
    assert len(of_kind(done.entries, "challenge")) == 1
    [view] = [
        c for c in challenge_progress(prog, done.state, int(Q3.timestamp())) if c.key == "story_q3"
    ]
    assert (view.progress, view.percent, view.won, view.status) == (2, 100, True, "open")


def test_a_sum_goal_adds_a_property_and_a_first_n_award_waits_for_the_close():
    prog = program(STORIES)
    deals = [
        event("deal.won", datetime(2026, 8, d, 15, tzinfo=UTC), properties={"amount": a})
        for d, a in ((3, 60_000), (10, 50_000))
    ]
    done = run(prog, deals)
    record = done.state.challenges["pipeline"]
    assert record[0] == 110_000 and record[2] == int(deals[1].ts) and record[3] is None
    assert of_kind(done.entries, "challenge") == []  # first 2: paid when the window closes


def test_a_points_goal_counts_points_in_the_window_for_the_tier_only():
    prog = program(STORIES)
    sept = datetime(2026, 9, 2, 15, tzinfo=UTC)
    reviews = [event("review.posted", sept + i * DAY) for i in range(27)]
    done = run(prog, reviews)
    record = done.state.challenges["points_sprint"]
    # gold at the 20th review (1,000 points): only the 7 reviews after it count, 350 points
    assert record[0] == 350 and record[2] == reviews[25].ts and record[3] is not None
    assert [e.points for e in of_kind(done.entries, "challenge")] == [50]


def test_challenge_won_pays_once_and_names_an_unknown_challenge():
    prog = program(STORIES)
    won = event(
        "challenge.won",
        datetime(2026, 9, 1, 4, tzinfo=UTC),
        properties={"challenge": "pipeline", "rank": 1},
    )
    again = event(
        "challenge.won",
        datetime(2026, 9, 1, 4, tzinfo=UTC),
        properties={"challenge": "pipeline", "rank": 1},
    )
    done = run(prog, [won, again])
    assert [e.points for e in of_kind(done.entries, "challenge")] == [1000]
    with pytest.raises(InvalidEvent) as raised:
        run(prog, [event("challenge.won", Q3, properties={"challenge": "nope"})])
    assert raised.value.field == "properties.challenge"


def test_reversing_the_story_takes_back_the_reward():
    prog = program(STORIES)
    events = [story(), event("review.posted", Q3 + DAY, attributes=ADVOCATE)]
    _, after = reverse(prog, events, events[0].id, "story withdrawn")
    assert after.state.lifetime == 50
    assert "story_q3" not in {k for k, r in after.state.challenges.items() if r[0]}
    assert entitlements(prog, after.state) == {}


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            {"goal": {"action": "story_submited"}},
            "challenges[0].goal.action",
            "did you mean 'story_submitted'",
        ),
        ({"goal": {"points": 10, "action": "story_submitted"}}, "challenges[0].goal", "takes no"),
        ({"ends": "2026-06-30"}, "challenges[0].ends", "must be after 'starts'"),
        (
            # 10:00 at +14:00 is 20:00 UTC the day before the start
            {"starts": "2026-07-01T00:00:00+00:00", "ends": "2026-07-01T10:00:00+14:00"},
            "challenges[0].ends",
            "must be after 'starts'",
        ),
        ({"tiers": 5}, "challenges[0].tiers", "must be a list"),
        ({"segment": [{"property": "x", "eq": 1}]}, "challenges[0]", "use 'attribute'"),
        ({"award": {"first": 3, "top": 3}}, "challenges[0].award", "not both"),
        ({"tiers": ["golden"]}, "challenges[0].tiers[0]", "unknown tier 'golden'"),
        ({"starts": "2026-07-01T25:00"}, "challenges[0].starts", "neither a date"),
    ],
)
def test_a_bad_challenge_is_named_by_its_path(change, path, message):
    challenge = {
        "key": "c",
        "name": "C",
        "starts": "2026-07-01",
        "ends": "2026-09-30",
        "goal": {"action": "story_submitted"},
        **change,
    }
    source = {
        "actions": [{"key": "story_submitted"}],
        "tiers": [{"key": "gold", "name": "Gold", "min_points": 0}],
        "challenges": [challenge],
    }
    with pytest.raises(InvalidProgram) as raised:
        program(source)
    assert any(e.field == path and message in e.message for e in raised.value.errors), (
        raised.value.errors
    )


def test_first_n_ranks_by_when_the_goal_was_reached_in_event_time():
    """A late deal dated Aug 3 that tips the sum over the goal after one dated Aug 20 does not
    make the goal reached on Aug 3."""
    prog = program(STORIES)
    aug = [
        event("deal.won", datetime(2026, 8, 20, 15, tzinfo=UTC), properties={"amount": 60_000}),
        event("deal.won", datetime(2026, 8, 3, 15, tzinfo=UTC), properties={"amount": 50_000}),
    ]
    record = run(prog, aug).state.challenges["pipeline"]
    assert record[2] == aug[0].ts


def test_amounts_that_are_not_finite_small_numbers_add_nothing():
    prog = program(STORIES)
    aug = datetime(2026, 8, 3, 15, tzinfo=UTC)
    # The Event model refuses such numbers at the edge; the engine does not rely on it.
    huge = [
        event("deal.won", aug).model_copy(update={"properties": {"amount": 10**400}}),
        event("deal.won", aug).model_copy(update={"properties": {"amount": 1e308}}),
    ]
    state = run(prog, huge).state
    assert state.challenges.get("pipeline", [0])[0] == 0
    assert [
        c.percent
        for c in challenge_progress(prog, state, int(aug.timestamp()))
        if c.key == "pipeline"
    ] == [0]


def test_float_sums_reach_their_target_despite_rounding():
    prog = program(STORIES.replace("target: 100000", "target: 0.8"))
    aug = datetime(2026, 8, 3, 15, tzinfo=UTC)
    state = run(prog, [event("deal.won", aug, properties={"amount": a}) for a in (0.7, 0.1)]).state
    assert state.challenges["pipeline"][2] is not None


def test_an_action_cannot_listen_to_challenge_won():
    with pytest.raises(InvalidProgram) as raised:
        program({"actions": [{"key": "won", "event": "challenge.won", "points": 77}]})
    assert [e.field for e in raised.value.errors] == ["actions[0].event"]
