"""Experiments in the engine: arms given once by hash or cohort, and the covered rules the
control group goes without, each with an entry saying why."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from accolade.engine.experiments import CONTROL, TREATMENT, arm_of, arms_view, withheld_by
from accolade.engine.rewards import why_not
from accolade.engine.state import MemberState
from accolade.errors import InvalidProgram
from accolade.program.loader import load_program
from tests.programs import program_head
from tests.unit.builders import DAY, event, member, of_kind, program, reverse, run

JULY = datetime(2026, 7, 6, 15, tzinfo=UTC)
JUNE = datetime(2026, 6, 20, 15, tzinfo=UTC)
SEPTEMBER = datetime(2026, 9, 10, 15, tzinfo=UTC)

PILOT = (
    program_head("partners", "Partners", timezone="Europe/Berlin")
    + """
actions:
  - {key: webinar, event: webinar.attended, points: 50}
  - {key: deal, event: deal.registered, points: 200}
badges:
  - {key: first_webinar, name: First webinar, when: {action: webinar}}
  - {key: first_deal, name: First deal, when: {action: deal}}
quests:
  - key: onboarding
    name: Onboarding
    steps:
      - {key: watch, name: Watch a webinar, action: webinar}
    reward: {points: 100}
challenges:
  - key: summer
    name: Summer webinars
    starts: 2026-07-01
    ends: 2026-08-31
    goal: {action: webinar, count: 2}
    reward: {points: 300}
leaderboards:
  - {key: webinars, name: Webinars, metric: {action: webinar}}
  - {key: points, name: Points}
rewards:
  - {key: mug, name: Mug, price: 10}
experiments:
  - key: webinar_points
    name: Do webinar points lift attendance?
    covers:
      actions: [webinar]
      badges: [first_webinar]
      quests: [onboarding]
      challenges: [summer]
      leaderboards: [webinars]
      rewards: [mug]
    segment: [{attribute: region, eq: emea}]
    starts: 2026-07-01
    ends: 2026-08-31
    split: 0.5
"""
)
EMEA = {"region": "emea"}


def control_member(prog, prefix: str = "c") -> str:
    """A member id the hash puts in control of the first experiment."""
    experiment = next(iter(prog.experiments.values()))
    return next(
        f"{prefix}{i}" for i in range(1000) if arm_of(experiment, f"{prefix}{i}") == CONTROL
    )


def treatment_member(prog, prefix: str = "t") -> str:
    experiment = next(iter(prog.experiments.values()))
    return next(
        f"{prefix}{i}" for i in range(1000) if arm_of(experiment, f"{prefix}{i}") == TREATMENT
    )


def played(prog, who: str, events, state=None):
    """``run`` for member ``who`` (the engine takes the member from the state)."""
    return run(prog, events, state or member(who))


def webinar(who: str, at: datetime = JULY, attributes=EMEA, **kw):
    return event("webinar.attended", at, member=who, attributes=attributes, **kw)


def test_the_arm_of_a_member_is_the_same_every_time():
    experiment = program(PILOT).experiments["webinar_points"]
    arms = [arm_of(experiment, f"member-{i}") for i in range(200)]
    assert arms == [arm_of(experiment, f"member-{i}") for i in range(200)]
    assert {CONTROL, TREATMENT} == set(arms)


@pytest.mark.parametrize("share", [0.1, 0.5, 0.8])
def test_the_treatment_share_is_respected_over_ten_thousand_members(share):
    experiment = dataclasses.replace(program(PILOT).experiments["webinar_points"], share=share)
    treated = sum(arm_of(experiment, f"m{i}") == TREATMENT for i in range(10_000))
    # 4 standard deviations of a binomial(10_000, share): fails by chance once in ~30,000 runs
    assert abs(treated / 10_000 - share) < 4 * (share * (1 - share) / 10_000) ** 0.5


def test_another_experiment_key_draws_other_arms():
    experiment = program(PILOT).experiments["webinar_points"]
    other = dataclasses.replace(experiment, key="other")
    same = sum(arm_of(experiment, f"m{i}") == arm_of(other, f"m{i}") for i in range(2000))
    assert 850 < same < 1150  # independent draws agree half the time


def test_a_cohort_is_the_treatment_and_the_rest_of_the_segment_is_control():
    source = PILOT.replace("    split: 0.5\n", "    cohort: [ann, bob]\n")
    prog = program(source)
    assert played(prog, "ann", [webinar("ann")]).state.arms == {"webinar_points": TREATMENT}
    assert played(prog, "zoe", [webinar("zoe")]).state.arms == {"webinar_points": CONTROL}
    # a cohort member outside the segment is in the experiment all the same: they were listed
    assert played(prog, "bob", [webinar("bob", attributes={"region": "amer"})]).state.arms == {
        "webinar_points": TREATMENT
    }


def test_the_first_event_in_the_window_and_segment_records_the_arm_once():
    prog = program(PILOT)
    who = control_member(prog)
    done = played(prog, who, [webinar(who), webinar(who, JULY + DAY)])
    assigned = of_kind(done.entries, "experiment")
    assigned = [e for e in assigned if e.rule == "experiment:webinar_points"]
    assert [(e.period, e.points, e.event_id) for e in assigned] == [
        (CONTROL, 0, done.evaluations[0].entries[0].event_id)
    ]
    assert assigned[0].reason.startswith(
        "assigned to the control group of experiment 'webinar_points'"
    )
    assert done.state.arms == {"webinar_points": CONTROL}


def test_outside_the_window_or_the_segment_no_arm_is_given():
    prog = program(PILOT)
    who = control_member(prog)
    before = played(prog, who, [webinar(who, JUNE)])
    after = played(prog, who, [webinar(who, SEPTEMBER)])
    elsewhere = played(prog, who, [webinar(who, attributes={"region": "amer"})])
    for done in (before, after, elsewhere):
        assert done.state.arms == {}
        assert of_kind(done.entries, "experiment") == []
        assert done.state.lifetime > 0  # they get the program as it is


def test_a_control_member_gets_no_points_badge_quest_or_challenge_and_is_told_why():
    prog = program(PILOT)
    who = control_member(prog)
    done = played(prog, who, [webinar(who), webinar(who, JULY + DAY)])
    assert (done.state.lifetime, done.state.balance) == (0, 0)
    assert done.state.badges == {}
    assert done.state.quest_steps == {}
    assert done.state.challenges == {}
    earned = of_kind(done.entries, "earn")
    assert [(e.rule, e.points) for e in earned] == [("action:webinar", 0)] * 2
    assert earned[0].reason == (
        "control group of experiment 'webinar_points': action 'webinar' gives no points"
    )
    withheld = {(e.rule, e.reason) for e in of_kind(done.entries, "experiment") if e.period}
    assert (
        "badge:first_webinar",
        "control group of experiment 'webinar_points': badge 'first_webinar' is not awarded",
    ) in withheld
    assert (
        "quest:onboarding",
        "control group of experiment 'webinar_points': quest 'onboarding' does not count "
        "step 'watch'",
    ) in withheld
    assert (
        "challenge:summer",
        "control group of experiment 'webinar_points': challenge 'summer' does not count "
        "this event",
    ) in withheld
    assert (
        "leaderboard:webinars",
        "control group of experiment 'webinar_points': leaderboard 'webinars' does not count "
        "this event",
    ) in withheld
    # the event happened: caps, streaks and what the experiment does not cover count it
    assert len(done.state.occurrences["webinar"]) == 2


def test_a_treatment_member_gets_the_program_unchanged():
    prog = program(PILOT)
    who = treatment_member(prog)
    without = program(PILOT.split("experiments:")[0])
    events = [webinar(who), webinar(who, JULY + DAY)]
    done, plain = played(prog, who, events), played(without, who, events)
    assert done.state.arms == {"webinar_points": TREATMENT}
    assert dataclasses.replace(done.state, arms={}) == plain.state
    assert [e for e in done.entries if e.kind.value != "experiment"] == list(plain.entries)


def test_a_control_member_s_uncovered_rules_still_apply():
    prog = program(PILOT)
    who = control_member(prog)
    done = played(prog, who, [event("deal.registered", JULY, member=who, attributes=EMEA)])
    assert done.state.lifetime == 200
    assert ("first_deal", "") in done.state.badges


def test_after_the_window_a_control_member_gets_the_covered_rules_again():
    prog = program(PILOT)
    who = control_member(prog)
    done = played(prog, who, [webinar(who), webinar(who, SEPTEMBER)])
    assert done.state.arms == {"webinar_points": CONTROL}
    assert done.state.lifetime == 50 + 100  # the webinar's points and the quest's reward
    assert ("first_webinar", "") in done.state.badges


def test_the_control_group_may_not_redeem_a_covered_reward_while_it_runs():
    prog = program(PILOT)
    item = prog.rewards["mug"]
    control = played(prog, "c", [webinar(c := control_member(prog))], member(c)).state
    treated = played(prog, "t", [webinar(t := treatment_member(prog))], member(t)).state
    now = int(JULY.timestamp())
    assert why_not(prog, item, control, now) == (
        "not offered to the control group of experiment 'webinar_points'"
    )
    assert why_not(prog, item, treated, now) is None
    assert why_not(prog, item, control, int(SEPTEMBER.timestamp())) is None


def test_a_later_version_with_another_share_keeps_the_arms_given():
    prog = program(PILOT)
    who = control_member(prog)
    first = played(prog, who, [webinar(who)])
    everyone_treated = program(PILOT.replace("split: 0.5", "split: 0.99"), version=2)
    later = played(everyone_treated, who, [webinar(who, JULY + DAY)], first.state)
    assert later.state.arms == {"webinar_points": CONTROL}
    assert later.state.lifetime == 0


def test_reversing_the_event_that_gave_the_arm_keeps_the_arm():
    prog = program(PILOT)
    events = [webinar("m1")]  # the builder's member; its only event in the window
    before, after = reverse(prog, events, events[0].id)
    assert before.state.arms == {"webinar_points": arm_of(prog.experiments["webinar_points"], "m1")}
    assert after.state.arms == before.state.arms


def test_arms_are_stored_with_the_state_and_read_back():
    state = member("m1", arms={"webinar_points": CONTROL})
    again = MemberState.restore(
        "m1",
        team=None,
        company=None,
        attributes={},
        lifetime=0,
        balance=0,
        tier=None,
        progress=state.progress_json(),
    )
    assert again.arms == {"webinar_points": CONTROL}
    assert "arms" not in member("m2").progress_json()  # states without arms are unchanged


def test_the_member_view_lists_arms_with_whether_the_experiment_runs():
    prog = program(PILOT)
    state = member("m1", arms={"webinar_points": CONTROL, "dropped": TREATMENT})
    views = arms_view(prog, state, int(JULY.timestamp()))
    assert [(v.experiment, v.name, v.arm, v.running) for v in views] == [
        ("webinar_points", "Do webinar points lift attendance?", CONTROL, True),
        ("dropped", "dropped", TREATMENT, False),
    ]


def test_withheld_by_needs_the_control_arm_and_the_window():
    prog = program(PILOT)
    ts = int(JULY.timestamp())
    control = member("m1", arms={"webinar_points": CONTROL})
    treated = member("m1", arms={"webinar_points": TREATMENT})
    assert withheld_by(prog, control, "action:webinar", ts) is not None
    assert withheld_by(prog, control, "action:deal", ts) is None
    assert withheld_by(prog, treated, "action:webinar", ts) is None
    assert withheld_by(prog, control, "action:webinar", int(SEPTEMBER.timestamp())) is None


# the program file ----------------------------------------------------------------------------


def errors_of(source: str) -> dict[str, str]:
    with pytest.raises(InvalidProgram) as raised:
        load_program(source)
    return {e.field: e.message for e in raised.value.errors}


def test_a_covered_name_must_exist():
    found = errors_of(PILOT.replace("badges: [first_webinar]", "badges: [first_webinr]"))
    assert found == {
        "experiments[0].covers.badges[0]": "unknown badge 'first_webinr' (did you mean "
        "'first_webinar'?)"
    }


def test_two_experiments_covering_a_mechanic_in_overlapping_windows_are_refused():
    second = """
  - key: second
    name: Second
    covers: {actions: [deal, webinar]}
    starts: 2026-08-15
    ends: 2026-09-15
"""
    found = errors_of(PILOT + second)
    assert list(found) == ["experiments[1].covers.actions[1]"]
    assert found["experiments[1].covers.actions[1]"].startswith(
        "'webinar' is covered by experiment 'webinar_points' (experiments[0]) in an "
        "overlapping window"
    )
    # after the first one ends, the same mechanic may be tested again
    load_program(PILOT + second.replace("2026-08-15", "2026-09-01"))


COVERS = """    covers:
      actions: [webinar]
      badges: [first_webinar]
      quests: [onboarding]
      challenges: [summer]
      leaderboards: [webinars]
      rewards: [mug]
"""


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("split: 0.5", "split: 1", "experiments[0].split", "must be < 1"),
        ("split: 0.5", "split: 0.5\n    cohort: [ann]", "experiments[0]", "give 'split'"),
        (
            "ends: 2026-08-31\n    split",
            "ends: 2026-06-30\n    split",
            "experiments[0].ends",
            "must be after",
        ),
        ("{attribute: region", "{property: region", "experiments[0]", "a segment tests"),
        (COVERS, "    covers: {}\n", "experiments[0].covers", "name at least one mechanic"),
        ("split: 0.5", "outcomes: [revenue]", "experiments[0].outcomes[0]", "must be one of"),
        ("split: 0.5", "cohort: [ann, ann]", "experiments[0].cohort", "member 'ann' is listed"),
    ],
)
def test_a_bad_experiment_names_its_field(old, new, field, message):
    assert PILOT.count(old) == 1
    found = errors_of(PILOT.replace(old, new))
    assert field in found, found
    assert found[field].startswith(message), found[field]


# recommendations as a covered mechanic -------------------------------------------------------

RECS = """
  - key: recs
    name: Do recommendations lift attendance?
    covers: {recommendations: true}
    starts: 2026-07-01
    ends: 2026-07-31
"""


def test_an_experiment_may_cover_recommendations_alone_and_still_assigns_arms():
    prog = program(PILOT.replace("    split: 0.5\n", "    split: 0.5\n" + RECS.lstrip("\n"), 1))
    assert prog.experiments["recs"].covers == ("recommendations",)
    who = next(f"r{i}" for i in range(1000) if arm_of(prog.experiments["recs"], f"r{i}") == CONTROL)
    done = played(prog, who, [webinar(who)])
    assert done.state.arms["recs"] == CONTROL
    assigned = [e for e in of_kind(done.entries, "experiment") if e.rule == "experiment:recs"]
    assert assigned[0].reason.endswith("(while it runs: without recommendations)")


def test_recommendations_are_withheld_from_the_control_arm_while_it_runs_only():
    from accolade.engine.experiments import recommendations_withheld_by

    prog = program(PILOT + RECS)
    ts = int(JULY.timestamp())
    recs = prog.experiments["recs"]
    control = member("m1", arms={"recs": CONTROL})
    treated = member("m1", arms={"recs": TREATMENT})
    assert recommendations_withheld_by(prog, control, ts) is recs
    assert recommendations_withheld_by(prog, treated, ts) is None
    assert recommendations_withheld_by(prog, control, int(SEPTEMBER.timestamp())) is None
    # no arm yet: the arm their first event in the window will give them
    for i in range(20):
        fresh = member(f"u{i}")
        held = recommendations_withheld_by(prog, fresh, ts)
        assert (held is recs) == (arm_of(recs, f"u{i}") == CONTROL)
    # covering recommendations withholds no ledger rule
    assert withheld_by(prog, control, "action:webinar", ts) is None


def test_two_experiments_covering_recommendations_in_overlapping_windows_are_refused():
    second = RECS.replace("key: recs", "key: again").replace("2026-07-01", "2026-07-20")
    found = errors_of(PILOT + RECS + second.replace("2026-07-31", "2026-08-10"))
    assert list(found) == ["experiments[2].covers.recommendations"]
    assert found["experiments[2].covers.recommendations"].startswith(
        "recommendations are covered by experiment 'recs' (experiments[1]) in an overlapping window"
    )
    later = second.replace("2026-07-20", "2026-08-01").replace("2026-07-31", "2026-08-10")
    load_program(PILOT + RECS + later)


def test_covering_recommendations_takes_a_boolean_named_by_its_path():
    found = errors_of(PILOT + RECS.replace("recommendations: true", "recommendations: maybe"))
    assert "experiments[1].covers.recommendations" in found, found
    nothing = errors_of(PILOT + RECS.replace("recommendations: true", "recommendations: false"))
    assert nothing["experiments[1].covers"].startswith("name at least one mechanic"), nothing
