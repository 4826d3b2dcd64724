"""Quests: ordered and any-order steps, rewards, prerequisites, time limits, reversal.

The acceptance scenarios are seed 000's Onboarding Quest and BuildRight's "Smart Tool Master"
(examples/onboarding-quest.yaml).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accolade.engine.entitlements import entitlements
from accolade.engine.quests import quest_progress
from accolade.errors import InvalidProgram
from tests.unit.builders import DAY, HOUR, T0, event, of_kind, program, reverse, run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "onboarding-quest.yaml"


def onboarding():
    return program(EXAMPLE.read_text(encoding="utf-8"))


def welcome(at=T0, **kw):
    return event("video.watched", at, properties={"video": "welcome"}, **kw)


def profile(at=T0 + HOUR, **kw):
    return event("profile.completed", at, **kw)


def core_quiz(at=T0 + 2 * HOUR, score=90, **kw):
    return event("quiz.passed", at, properties={"quiz": "core_features", "score": score}, **kw)


def invite(at=T0 + 3 * HOUR, **kw):
    return event("colleague.invited", at, **kw)


def progress_of(prog, state, key, now=T0 + DAY):
    return next(q for q in quest_progress(prog, state, int(now.timestamp())) if q.key == key)


def test_all_four_onboarding_steps_give_200_points_and_the_certified_user_badge():
    prog = onboarding()
    done = run(prog, [welcome(), profile(), core_quiz(), invite()])
    assert done.state.lifetime == done.state.balance == 200
    assert ("certified_user", "") in done.state.badges
    quest = progress_of(prog, done.state, "onboarding")
    assert (quest.status, quest.done, quest.total, quest.percent) == ("completed", 4, 4, 100)
    assert quest.next_step is None
    assert [e.points for e in of_kind(done.entries, "quest")] == [20, 30, 100, 50, 0]


def test_stopping_after_two_steps_shows_half_done_with_the_quiz_next():
    prog = onboarding()
    half = run(prog, [welcome(), profile()])
    quest = progress_of(prog, half.state, "onboarding")
    assert (quest.status, quest.percent, half.state.lifetime) == ("in_progress", 50, 50)
    assert quest.next_step is not None
    assert quest.next_step.name == "Pass the Core Features quiz"
    assert quest.unlocks.points == 0 and quest.steps[2].points == 100


def test_an_ordered_quest_takes_only_its_next_step():
    prog = onboarding()
    early = run(prog, [core_quiz(), welcome(at=T0 + 3 * HOUR)])
    assert progress_of(prog, early.state, "onboarding").done == 1  # the quiz came too early
    assert ("certified_user", "") not in early.state.badges


def test_a_step_needs_its_own_conditions_and_the_actions():
    prog = onboarding()
    other_video = event("video.watched", T0, properties={"video": "pricing"})
    failed_quiz = core_quiz(score=50)
    state = run(prog, [other_video, profile(), failed_quiz]).state
    assert progress_of(prog, state, "onboarding").done == 0


def smart_tools():
    videos = ["smart_drill", "smart_saw", "smart_level"]
    return [
        *(
            event("video.watched", T0 + i * HOUR, properties={"video": v})
            for i, v in enumerate(videos)
        ),
        event("quiz.passed", T0 + 4 * HOUR, properties={"quiz": "smart_tools", "score": 85}),
        event("project.logged", T0 + 5 * HOUR),
    ]


def test_smart_tool_master_gives_its_badge_and_a_commission_entitlement():
    prog = onboarding()
    done = run(prog, list(reversed(smart_tools())))  # any order
    assert ("smart_tool_master", "") in done.state.badges
    assert entitlements(prog, done.state) == {
        "commission_bonus_pct": 2,
        "commission_bonus_sales": 5,
    }
    [completed] = [e for e in of_kind(done.entries, "quest") if e.period == ""]
    assert (
        completed.rule == "quest:smart_tool_master"
        and "commission_bonus_pct: 2" in completed.reason
    )


def test_one_event_does_one_step_of_a_quest():
    prog = onboarding()
    same_video_twice = [
        event("video.watched", T0 + i * HOUR, properties={"video": "smart_saw"}) for i in range(2)
    ]
    state = run(prog, same_video_twice).state
    assert progress_of(prog, state, "smart_tool_master").done == 1


def test_steps_after_the_time_limit_do_not_count_and_the_quest_shows_expired():
    prog = onboarding()
    events = smart_tools()
    late = [*events[:-1], event("project.logged", T0 + 31 * DAY)]
    state = run(prog, late).state
    quest = progress_of(prog, state, "smart_tool_master", now=T0 + 40 * DAY)
    assert (quest.status, quest.done) == ("expired", 4)
    assert entitlements(prog, state) == {}


QUESTS = """
key: q
name: Q
actions:
  - {key: a, points: 1}
  - {key: b, points: 1}
tiers:
  - {key: bronze, name: Bronze, min_points: 0}
  - {key: silver, name: Silver, min_points: 10}
quests:
  - key: first
    name: First
    steps: [{key: s1, name: Do A, action: a, points: 5}]
  - key: second
    name: Second
    hidden: true
    requires: {quests: [first]}
    steps: [{key: s1, name: Do B, action: b, points: 5}]
  - key: elite
    name: Elite
    requires: {tier: silver}
    steps: [{key: s1, name: Do B, action: b}]
    reward: {points: 100}
"""


def test_a_locked_quest_ignores_its_steps_and_a_hidden_one_appears_once_unlocked():
    prog = program(QUESTS)
    early = run(prog, [event("b", T0)]).state
    shown = {q.key: q.status for q in quest_progress(prog, early, int(T0.timestamp()))}
    assert shown == {"first": "available", "elite": "locked"}  # second is hidden
    later = run(prog, [event("a", T0 + HOUR), event("b", T0 + 2 * HOUR)], early).state
    shown = {q.key: q.status for q in quest_progress(prog, later, int(T0.timestamp()))}
    assert shown == {"first": "completed", "second": "completed", "elite": "available"}


def test_a_tier_requirement_is_met_by_points_earned_before_the_event():
    prog = program(QUESTS)
    state = run(prog, [event("a", T0), event("b", T0 + HOUR)]).state  # 1+5+1+5 = 12: silver
    assert state.tier == "silver" and "elite" not in state.quests_done
    state = run(prog, [event("b", T0 + 2 * HOUR)], state).state
    assert "elite" in state.quests_done and state.lifetime == 12 + 1 + 100


def test_reversing_a_step_takes_back_its_points_the_badge_and_the_completion():
    prog = onboarding()
    events = [welcome(), profile(), core_quiz(), invite()]
    before, after = reverse(prog, events, events[2].id, "quiz taken by someone else")
    assert before.state.lifetime == 200
    assert after.state.lifetime == after.state.balance == 50  # the invite waits for the quiz
    assert ("certified_user", "") not in after.state.badges
    assert [e.kind.value for e in after.entries].count("badge_revoked") == 1
    assert progress_of(prog, after.state, "onboarding").done == 2


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"action": "quiz_pased"}, "quests[0].steps[0].action", "did you mean 'quiz_passed'"),
        ({"badge": "certified"}, "quests[0].steps[0].badge", "unknown badge 'certified'"),
        ({"points": -1}, "quests[0].steps[0].points", "must be >= 0"),
        ({"colour": "red"}, "quests[0].steps[0].colour", "unknown key"),
    ],
)
def test_a_bad_step_is_named_by_its_path(change, path, message):
    step = {"key": "s", "name": "S", "action": "quiz_passed", **change}
    source = {
        "actions": [{"key": "quiz_passed"}],
        "badges": [
            {"key": "certified_user", "name": "Certified", "when": {"action": "quiz_passed"}}
        ],
        "quests": [{"key": "q", "name": "Q", "steps": [step]}],
    }
    with pytest.raises(InvalidProgram) as raised:
        program(source)
    assert any(e.field == path and message in e.message for e in raised.value.errors), (
        raised.value.errors
    )


def test_quests_that_require_each_other_are_refused():
    source = {
        "actions": [{"key": "a"}],
        "quests": [
            {
                "key": "x",
                "name": "X",
                "requires": {"quests": ["y"]},
                "steps": [{"key": "s", "name": "S", "action": "a"}],
            },
            {
                "key": "y",
                "name": "Y",
                "requires": {"quests": ["x"]},
                "steps": [{"key": "s", "name": "S", "action": "a"}],
            },
        ],
    }
    with pytest.raises(InvalidProgram) as raised:
        program(source)
    assert {e.field for e in raised.value.errors} == {"quests[0].requires", "quests[1].requires"}


def test_a_badge_without_a_rule_must_be_a_quest_reward():
    source = {"actions": [{"key": "a"}], "badges": [{"key": "orphan", "name": "Orphan"}]}
    with pytest.raises(InvalidProgram) as raised:
        program(source)
    assert [e.field for e in raised.value.errors] == ["badges[0].when"]


def test_a_program_without_quests_is_evaluated_as_before():
    prog = program({"actions": [{"key": "a", "points": 3}]})
    assert prog.quests_by_action == {}
    state = run(prog, [event("a", T0)]).state
    assert state.lifetime == 3 and state.quest_steps == {} and '"quest' not in state.progress_json()


def test_new_program_keys_leave_the_hash_of_programs_without_them_unchanged():
    """Quests and challenges are left out of the hashed dump when absent: the demo program's
    content hash is the one it had before they existed, so republishing it is "unchanged"."""
    from accolade.program.loader import load_program, program_hash
    from tests.unit.builders import DEMO_PROGRAM

    demo_program = load_program(DEMO_PROGRAM.read_text(encoding="utf-8"))
    assert program_hash(demo_program) == (
        "506845b4a080685d07f62616822c2c135f731f70a4d48bad612b4ab00ed1973f"
    )


def test_a_member_whose_tier_a_later_version_renamed_still_evaluates():
    prog = program(QUESTS)
    state = run(prog, [event("a", T0), event("b", T0 + HOUR)]).state
    assert state.tier == "silver"
    renamed = program(QUESTS.replace("silver", "argent"), version=2)
    later = run(renamed, [event("b", T0 + 2 * HOUR)], state).state
    assert later.tier == "argent"
    assert {q.key for q in quest_progress(renamed, state, int(T0.timestamp()))} >= {"first"}


def test_a_wrongly_typed_list_is_an_error_not_a_crash():
    source = {
        "actions": [{"key": "a"}],
        "quests": [
            {
                "key": "q",
                "name": "Q",
                "requires": {"quests": 5},
                "steps": [{"key": "s", "name": "S", "action": "a"}],
            }
        ],
    }
    with pytest.raises(InvalidProgram) as raised:
        program(source)
    assert [e.field for e in raised.value.errors] == ["quests[0].requires.quests"]
