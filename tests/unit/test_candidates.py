"""Next best action candidates: what a member is eligible for now, and why."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from accolade.engine.candidates import Candidate, candidates
from accolade.errors import InvalidProgram
from tests.unit.builders import DAY, event, member, program, run

JULY = datetime(2026, 7, 15, 15, 0, tzinfo=UTC)
PROGRAM = """
key: advocates
name: Advocates
actions:
  - {key: story_submitted, event: story.submitted, points: 100}
  - {key: review_posted, event: review.posted, points: 50, limits: {cap: {count: 1, per: week}}}
  - {key: login, event: login, points: 1}
  - {key: referred, event: referral.submitted, points: 200}
  - {key: profile_done, event: profile.completed, points: 20, limits: {once: true}}
tiers:
  - {key: member, name: Member, min_points: 0}
  - {key: gold, name: Gold, min_points: 1000}
quests:
  - key: onboarding
    name: Onboarding
    ordered: true
    steps:
      - {key: profile, name: Complete your profile, action: profile_done}
      - {key: review, name: Post a review, action: review_posted}
    reward: {points: 150}
challenges:
  - key: story_q3
    name: Share your win
    starts: 2026-07-01
    ends: 2026-09-30
    goal: {action: story_submitted}
    segment:
      - {attribute: role, eq: advocate}
    reward: {points: 500}
streaks:
  - {key: daily_login, name: Daily login, action: login, period: day}
rewards:
  - {key: mug, name: Mug, price: 300}
  - {key: jacket, name: Jacket, price: 5000}
recommendations:
  triggers:
    - {after: review_posted, surface: "challenge:story_q3", for_days: 7}
"""


def keys(found: list[Candidate]) -> list[str]:
    return [c.key for c in found]


def at(when: datetime) -> int:
    return int(when.timestamp())


def test_open_challenge_in_segment_is_a_candidate_with_its_window_as_reason() -> None:
    prog = program(PROGRAM)
    found = candidates(prog, member(attributes={"role": "advocate"}), at(JULY))
    [story] = [c for c in found if c.kind == "challenge"]
    assert (story.key, story.action, story.value) == ("challenge:story_q3", "story_submitted", 500)
    assert "open through 2026-09-30" in story.reason and "segment" in story.reason


def test_challenge_outside_segment_or_window_or_won_is_not_a_candidate() -> None:
    prog = program(PROGRAM)
    assert "challenge:story_q3" not in keys(candidates(prog, member(), at(JULY)))
    advocate = member(attributes={"role": "advocate"})
    assert "challenge:story_q3" not in keys(candidates(prog, advocate, at(JULY + 90 * DAY)))
    done = run(prog, [event("story.submitted", JULY)], advocate).state
    assert "challenge:story_q3" not in keys(candidates(prog, done, at(JULY + DAY)))


def test_ordered_quest_offers_only_its_next_step() -> None:
    prog = program(PROGRAM)
    found = keys(candidates(prog, member(), at(JULY)))
    assert "quest:onboarding:profile" in found and "quest:onboarding:review" not in found
    after = run(prog, [event("profile.completed", JULY)]).state
    later = candidates(prog, after, at(JULY + DAY))
    [step] = [c for c in later if c.kind == "quest"]
    assert step.key == "quest:onboarding:review"
    assert step.value == 150 + 0  # the step pays nothing itself; it completes the quest
    assert "completes the quest" in step.reason


def test_capped_or_once_done_action_is_not_a_candidate_until_its_window_passes() -> None:
    prog = program(PROGRAM)
    state = run(prog, [event("review.posted", JULY), event("profile.completed", JULY)]).state
    found = keys(candidates(prog, state, at(JULY + DAY)))
    assert "action:review_posted" not in found and "action:profile_done" not in found
    assert "action:review_posted" in keys(candidates(prog, state, at(JULY + 8 * DAY)))


def test_referral_action_is_a_referral_ask() -> None:
    found = candidates(program(PROGRAM), member(), at(JULY))
    [ask] = [c for c in found if c.key == "action:referred"]
    assert (ask.kind, ask.value) == ("referral", 200)


def test_streak_is_at_risk_only_when_a_run_is_alive_and_today_is_not_done() -> None:
    prog = program(PROGRAM)
    state = run(prog, [event("login", JULY - DAY)]).state
    assert "streak:daily_login" in keys(candidates(prog, state, at(JULY)))
    today = run(prog, [event("login", JULY)], state).state
    assert "streak:daily_login" not in keys(candidates(prog, today, at(JULY)))
    assert "streak:daily_login" not in keys(candidates(prog, state, at(JULY + 3 * DAY)))


def test_tier_within_reach_names_the_points_needed() -> None:
    prog = program(PROGRAM)
    found = candidates(prog, member(lifetime=900), at(JULY))
    [tier] = [c for c in found if c.kind == "tier"]
    assert (tier.key, tier.value) == ("tier:gold", 100)
    assert "100 points to Gold" in tier.reason
    assert not [c for c in candidates(prog, member(lifetime=100), at(JULY)) if c.kind == "tier"]


def test_rewards_within_reach_are_those_the_balance_covers() -> None:
    found = keys(candidates(program(PROGRAM), member(balance=400), at(JULY)))
    assert "reward:mug" in found and "reward:jacket" not in found


def test_trigger_surfaces_an_eligible_candidate_for_its_days() -> None:
    prog = program(PROGRAM)
    advocate = member(attributes={"role": "advocate"})
    state = run(prog, [event("review.posted", JULY)], advocate).state
    [story] = [c for c in candidates(prog, state, at(JULY + DAY)) if c.kind == "challenge"]
    assert story.triggered_by == "after review_posted on 2026-07-15"
    [later] = [c for c in candidates(prog, state, at(JULY + 8 * DAY)) if c.kind == "challenge"]
    assert later.triggered_by is None


def test_trigger_on_an_unknown_action_is_an_error_naming_its_path() -> None:
    bad = PROGRAM.replace("after: review_posted", "after: reviewed")
    try:
        program(bad)
    except InvalidProgram as error:
        assert "recommendations.triggers[0].after" in str(
            error.errors if hasattr(error, "errors") else error
        )
    else:
        raise AssertionError("an unknown action in a trigger was accepted")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["story.submitted", "review.posted", "login", "profile.completed"]),
            st.integers(min_value=0, max_value=60 * 24 * 30),
        ),
        max_size=12,
    ),
    st.integers(min_value=0, max_value=3000),
)
def test_candidates_have_unique_keys_and_none_is_a_reached_limit(
    stream: list[tuple[str, int]], balance: int
) -> None:
    prog = program(PROGRAM)
    events = [
        event(t, JULY + minutes * DAY / 1440) for t, minutes in sorted(stream, key=lambda s: s[1])
    ]
    state = run(prog, events, member(attributes={"role": "advocate"}, balance=balance)).state
    now = at(JULY + 31 * DAY)
    found = candidates(prog, state, now)
    assert len(keys(found)) == len(set(keys(found)))
    assert all(c.value >= 0 for c in found)
    for c in found:
        if c.kind == "reward":
            assert prog.rewards[c.key.split(":")[1]].price <= state.balance


def test_an_action_is_named_as_members_read_it_and_its_points_by_a_property_say_so():
    named = program(
        PROGRAM.replace(
            "  - {key: login, event: login, points: 1}",
            "  - {key: login, name: Sign in, event: login, points: 1}\n"
            "  - {key: deal_won, event: deal.won,"
            " points_from: {property: amount_usd, per: 100, points: 1, max: 20000}}",
        )
    )
    found = {c.key: c for c in candidates(named, member(), at(JULY))}
    assert found["action:login"].name == "Sign in"
    assert found["action:story_submitted"].name == "story submitted"
    deal = found["action:deal_won"]
    assert (deal.name, deal.value) == ("deal won", 20000)
    assert deal.reason == "deal won earns points by its amount usd, up to 20,000"
