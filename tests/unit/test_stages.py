"""Lifecycle stages and the rewards that fit them (seed 003; examples/lifecycle.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accolade.engine.entitlements import entitlements
from accolade.engine.stages import stage_view
from accolade.errors import InvalidProgram
from tests.unit.builders import DAY, HOUR, T0, event, of_kind, program, reverse, run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lifecycle.yaml"


def lifecycle():
    return program(EXAMPLE.read_text(encoding="utf-8"))


def reports(start, n, gap=DAY):
    return [event("report.run", start + i * gap) for i in range(n)]


def test_every_member_starts_in_trial_with_its_access_reward():
    prog = lifecycle()
    state = run(prog, [event("account.signed_up", T0)]).state
    assert state.stage == "trial"
    assert entitlements(prog, state) == {"trial_extension_days": 7}
    view = stage_view(prog, state)
    assert view is not None and view.next_stage is not None
    assert (view.next_stage.key, view.next_stage.how) == ("onboarding", "workspace_created once")


def test_activated_is_the_core_action_three_times_within_14_days():
    prog = lifecycle()
    start = [event("account.signed_up", T0), event("workspace.created", T0 + HOUR)]
    slow = run(prog, start + reports(T0 + DAY, 3, gap=8 * DAY)).state
    assert slow.stage == "onboarding"  # three reports, but over 16 days
    quick = run(prog, start + reports(T0 + DAY, 3, gap=2 * DAY))
    assert quick.state.stage == "activated"
    [entered] = [e for e in of_kind(quick.entries, "stage") if e.rule == "stage:activated"]
    assert entered.reason == "entered Activated: report_run 3 times within 14d"
    # the trial's access ends with the trial; activation's efficiency reward holds now
    assert entitlements(prog, quick.state) == {"template_pack": "advanced"}


def test_mature_needs_90_days_since_activation_and_a_business_outcome():
    prog = lifecycle()
    activated = [event("workspace.created", T0), *reports(T0 + HOUR, 3, gap=HOUR)]
    early = run(prog, [*activated, event("subscription.renewed", T0 + 30 * DAY)]).state
    assert early.stage == "activated"
    late = run(prog, [*activated, event("subscription.renewed", T0 + 91 * DAY)]).state
    assert late.stage == "mature"
    assert entitlements(prog, late)["partner_benefit"] == "co_marketing"


def test_actions_and_quests_limited_to_a_stage_wait_for_it():
    prog = lifecycle()
    trial = run(prog, [event("case_study.published", T0)])
    assert trial.state.lifetime == 0
    assert "for stages mature" in trial.last.notes[0]
    onboarding = run(prog, [event("workspace.created", T0), event("report.run", T0 + HOUR)])
    # the workspace event moves the member into onboarding, and counts for its quest
    assert set(onboarding.state.quest_steps["first_week"]) == {"workspace", "first_report"}
    trial_report = run(prog, [event("report.run", T0)]).state
    assert trial_report.stage == "trial" and trial_report.quest_steps == {}


def test_members_only_move_forward_and_may_skip_a_stage():
    prog = lifecycle()
    skipped = run(prog, [*reports(T0, 3, gap=HOUR)]).state  # activated without a workspace
    assert skipped.stage == "activated" and "onboarding" not in skipped.stages_entered


def test_reversing_the_event_that_activated_goes_back_a_stage_with_an_entry():
    prog = lifecycle()
    events = [event("workspace.created", T0), *reports(T0 + HOUR, 3, gap=HOUR)]
    before, after = reverse(prog, events, events[-1].id, "duplicate report")
    assert before.state.stage == "activated" and after.state.stage == "onboarding"
    [back] = of_kind(after.entries, "stage")
    assert back.rule == "stage:onboarding" and back.reason.startswith("back to Onboarding")


@pytest.mark.parametrize(
    ("stages", "path", "message"),
    [
        ([{"key": "a", "name": "A"}, {"key": "b", "name": "B"}], "stages[1].when", "is required"),
        (
            [{"key": "a", "name": "A"}, {"key": "b", "name": "B", "when": {"action": "ac"}}],
            "stages[1].when.action",
            "did you mean 'act'",
        ),
        (
            [
                {"key": "a", "name": "A", "when": {"after": {"stage": "b", "days": 3}}},
                {"key": "b", "name": "B", "when": {"action": "act"}},
            ],
            "stages[0].when.after.stage",
            "must be an earlier stage",
        ),
        ([{"key": "a", "name": "A", "when": {"count": 2}}], "stages[0].when", "at least one of"),
    ],
)
def test_a_bad_stage_is_named_by_its_path(stages, path, message):
    with pytest.raises(InvalidProgram) as raised:
        program({"actions": [{"key": "act"}], "stages": stages})
    assert any(e.field == path and message in e.message for e in raised.value.errors), (
        raised.value.errors
    )


def test_an_action_limited_to_an_unknown_stage_is_refused():
    with pytest.raises(InvalidProgram) as raised:
        program(
            {
                "actions": [{"key": "act", "stages": ["matur"]}],
                "stages": [{"key": "mature", "name": "M"}],
            }
        )
    assert [e.field for e in raised.value.errors] == ["actions[0].stages[0]"]
