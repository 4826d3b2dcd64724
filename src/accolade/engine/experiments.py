"""Experiments: which arm a member is in, and which covered rules the control arm goes without.

Pure. A member gets an arm at their first event inside an experiment's window while in its
segment (or listed in its cohort): a hash of (experiment key, member id) against the treatment
share, or the cohort list. The arm is kept in the member's state from then on, so a later
version with another share or cohort never moves anyone, and replay (which evaluates each event
under its own version) gives every member the arm they had.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.state import MemberState
from accolade.program.compiled import CompiledExperiment, CompiledProgram
from accolade.program.experiments import RECOMMENDATIONS

Arm = Literal["treatment", "control"]
TREATMENT: Arm = "treatment"
CONTROL: Arm = "control"
ARMS: tuple[Arm, Arm] = (CONTROL, TREATMENT)
_SPAN = 2**64


def arm_of(experiment: CompiledExperiment, member: str) -> Arm:
    """The arm ``member`` (their external id) falls in: listed in the cohort or not; else the
    first 8 bytes of SHA-256 of "key NUL member", as a fraction of 2**64, below the share."""
    if experiment.cohort is not None:
        return TREATMENT if member in experiment.cohort else CONTROL
    digest = hashlib.sha256(f"{experiment.key}\0{member}".encode()).digest()
    return TREATMENT if int.from_bytes(digest[:8], "big") < experiment.share * _SPAN else CONTROL


def eligible(experiment: CompiledExperiment, member: str, attrs: Mapping[str, Any]) -> bool:
    """In the experiment's population: listed in its cohort, or in its segment."""
    if experiment.cohort is not None and member in experiment.cohort:
        return True
    return all(c.check({}, attrs) for c in experiment.segment)


def running(experiment: CompiledExperiment, ts: int) -> bool:
    return experiment.starts <= ts < experiment.ends


def assign_arms(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    entries: list[Entry],
) -> None:
    """Arms for the experiments running at ``ts`` that the member is eligible for and has no
    arm in yet, each recorded by a 0-point entry (rule ``experiment:KEY``, period the arm)."""
    for experiment in program.experiments.values():
        if experiment.key in state.arms or not running(experiment, ts):
            continue
        if not eligible(experiment, state.member, state.attributes):
            continue
        arm = arm_of(experiment, state.member)
        state.own(before, "arms")
        state.arms[experiment.key] = arm
        reason = f"assigned to the {arm} group of experiment '{experiment.key}'"
        if arm == CONTROL:
            reason += f" (while it runs: without {_covered_words(experiment)})"
        entries.append(
            Entry(
                event_id, EntryKind.EXPERIMENT, experiment.rule, 0, 0, reason, program.version, arm
            )
        )


def covered(experiment: CompiledExperiment, rule: str) -> bool:
    """Whether ``rule`` ("action:KEY", "badge:KEY", ...) is one the experiment covers."""
    return rule in experiment.covers


def withheld_by(
    program: CompiledProgram, state: MemberState, rule: str, ts: int
) -> CompiledExperiment | None:
    """The experiment that withholds ``rule`` from the member at ``ts``: one covering it,
    running then, with the member in its control group. None: the rule applies as usual."""
    for experiment in program.experiments_covering.get(rule, ()):
        if state.arms.get(experiment.key) == CONTROL and running(experiment, ts):
            return experiment
    return None


def recommendations_withheld_by(
    program: CompiledProgram, state: MemberState, ts: int
) -> CompiledExperiment | None:
    """The experiment covering recommendations that withholds them from the member at ``ts``:
    running then, with the member in its control arm: the arm they were given, or, before
    their first event in the window, the arm that event will give them (the hash or cohort
    decides it already), so a control member is never shown a list before joining."""
    for experiment in program.experiments_covering.get(RECOMMENDATIONS, ()):
        if not running(experiment, ts):
            continue
        arm = state.arms.get(experiment.key)
        if arm is None and eligible(experiment, state.member, state.attributes):
            arm = arm_of(experiment, state.member)
        if arm == CONTROL:
            return experiment
    return None


def withheld_reason(experiment: CompiledExperiment, what: str) -> str:
    """An entry's reason for a rule the control group goes without, e.g. "control group of
    experiment 'pilot': action 'webinar' gives no points"."""
    return f"control group of experiment '{experiment.key}': {what}"


def withhold(
    program: CompiledProgram,
    experiment: CompiledExperiment,
    rule: str,
    what: str,
    event_id: str,
    entries: list[Entry],
) -> None:
    """The 0-point entry that says a covered rule (a badge, a quest step, a challenge's
    progress, a board's score) was not given to a control member, and why."""
    entries.append(
        Entry(
            event_id,
            EntryKind.EXPERIMENT,
            rule,
            0,
            0,
            withheld_reason(experiment, what),
            program.version,
            CONTROL,
        )
    )


def _covered_words(experiment: CompiledExperiment) -> str:
    """The covered rules in words: "action webinar, badge first_deal"."""
    return ", ".join(rule.replace(":", " ", 1) for rule in experiment.covers)


@dataclass(frozen=True, slots=True)
class ArmView:
    """A member's arm in one experiment, as the member view shows it."""

    experiment: str
    name: str
    arm: str
    running: bool  # the experiment's window holds now (the control group goes without it)


def arms_view(program: CompiledProgram, state: MemberState, now: int) -> list[ArmView]:
    """The member's arms, in the order the program lists its experiments (an experiment a
    later version dropped is still shown, by its key)."""
    out: list[ArmView] = []
    for key, arm in state.arms.items():
        experiment = program.experiments.get(key)
        name = experiment.name if experiment is not None else key
        live = experiment is not None and running(experiment, now)
        out.append(ArmView(key, name, arm, live))
    order = {key: i for i, key in enumerate(program.experiments)}
    return sorted(out, key=lambda v: (order.get(v.experiment, len(order)), v.experiment))
