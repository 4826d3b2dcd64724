"""Experiments as the program owner sees them: the list, each one's report (per arm, the size
and every chosen outcome, the difference with its 95% interval and p-value, the sample-ratio
check) and the decisions taken (ship, stop, extend), each with who took it and why.

Members' arms come from the ledger (uow.experiments); each outcome over the experiment's window
(the analytics service's ``outcome_occurrences``) is counted per arm in the database: the
members with it, or a mean's per-member totals as (total, members); the statistics come from
service/experiment_statistics.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from accolade.engine.experiments import ARMS, CONTROL, TREATMENT
from accolade.errors import InvalidInput, NotFound
from accolade.program.checks import did_you_mean
from accolade.program.compiled import CompiledExperiment, CompiledProgram
from accolade.service import Clock, audit, system_clock
from accolade.service.analytics import active_window, outcome_occurrences
from accolade.service.experiment_statistics import (
    CONFIDENCE,
    Comparison,
    SampleRatio,
    compare_counts,
    compare_means,
    sample_ratio,
)
from accolade.service.programs import active
from accolade.store.unit_of_work import Store, UnitOfWork

DECISIONS = ("ship", "stop", "extend")
Decision = Literal["ship", "stop", "extend"]
# outcome -> (what it measures, the analytics outcome (service/analytics.OUTCOMES), rate or mean)
OUTCOME_MEASURES: dict[str, tuple[str, str, str]] = {
    "activation": ("share of members activated in the window", "activated", "rate"),
    "active": ("share of members active in the window", "active", "rate"),
    "qualified": ("share of members with a qualified outcome (conversion)", "qualified", "rate"),
    "adoption": ("adoption events per member", "adoptions", "mean"),
    "pipeline": ("pipeline influenced per member, in minor units", "pipeline", "mean"),
}
MAX_BY = 200


@dataclass(frozen=True)
class ArmSize:
    arm: str  # control | treatment
    members: int


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome of the report, shaped for a chart: each arm's figure and the difference
    (treatment minus control) with its interval."""

    metric: str  # activation | active | qualified | adoption | pipeline
    kind: str  # rate (a share of the arm's members) | mean (per member)
    description: str
    control: float | None
    treatment: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str | None  # the test behind the interval and p-value; None when there is none
    currency: str | None = None  # pipeline: the currency of its minor units


@dataclass(frozen=True)
class ExperimentDecision:
    decision: str  # ship | stop | extend
    decided_by: str
    reason: str
    decided_at: datetime


@dataclass(frozen=True)
class ExperimentSummary:
    key: str
    name: str
    description: str | None
    status: str  # upcoming | running | ended
    starts_at: datetime
    ends_at: datetime  # excluded
    covers: list[str]  # "action:webinar", "badge:first_deal", ...
    split: float | None  # the treatment share drawn by hash; None with a cohort
    cohort: int | None  # members listed in the treatment cohort
    arms: list[ArmSize]
    decision: ExperimentDecision | None  # the latest


@dataclass(frozen=True)
class ExperimentReport(ExperimentSummary):
    confidence: float = CONFIDENCE
    # outcomes are counted over [measured_from, measured_to): the window, up to now
    measured_from: datetime | None = None
    measured_to: datetime | None = None
    outcomes: list[OutcomeRow] = field(default_factory=list)
    srm: SampleRatio | None = None
    decisions: list[ExperimentDecision] = field(default_factory=list)  # all, oldest first


def experiments(
    store: Store, program_key: str, *, clock: Clock = system_clock
) -> list[ExperimentSummary]:
    """The active version's experiments, each with its arms' sizes and latest decision."""
    now = clock()
    with store.read() as uow:
        program = active(uow, program_key)
        sizes = uow.experiments.arm_sizes(program.id)
        decided = _decisions(uow.experiments.decisions(program.id))
    return [
        ExperimentSummary(**_summary(e, now, sizes.get(key, {}), decided.get(key, [])))
        for key, e in program.compiled.experiments.items()
    ]


def report(
    store: Store, program_key: str, experiment: str, *, clock: Clock = system_clock
) -> ExperimentReport:
    """Per arm, its size and each outcome the experiment names over its window (up to now),
    the difference with its 95% interval and p-value, the sample-ratio check, the decisions."""
    now = clock()
    with store.read() as uow:
        program = active(uow, program_key)
        found = _experiment(program.compiled, experiment)
        start = _time(found.starts)
        end = max(start, min(_time(found.ends), now))
        arms = uow.experiments.arms_select(program.id, experiment)
        counted = uow.experiments.arm_counts(program.id, experiment)
        sizes: dict[str, int] = {arm: counted.get(arm, 0) for arm in ARMS}
        measured = {
            name: _measured(uow, program.id, program.compiled, arms, name, start, end)
            for name in found.outcomes
        }
        decided = _decisions(uow.experiments.decisions(program.id, experiment))
    # the statistics outside the transaction: they need no connection
    outcomes = [
        _outcome_row(program.compiled, name, sizes, measured[name]) for name in found.outcomes
    ]
    return ExperimentReport(
        **_summary(found, now, sizes, decided.get(experiment, [])),
        measured_from=start,
        measured_to=end,
        outcomes=outcomes,
        srm=sample_ratio(
            sizes[CONTROL], sizes[TREATMENT], None if found.cohort is not None else found.share
        ),
        decisions=decided.get(experiment, []),
    )


def decide(
    store: Store,
    program_key: str,
    experiment: str,
    decision: str,
    decided_by: str,
    reason: str,
    *,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> ExperimentDecision:
    """Record what was decided about ``experiment`` (ship, stop or extend), by whom and why;
    every decision is kept, the latest is the report's. InvalidInput names a bad field. With
    ``actor`` (who recorded it: a console user's email, ``api key <id>``, ``cli``), the
    decision is written to the audit log in the same transaction."""
    if decision not in DECISIONS:
        raise InvalidInput(
            f"'{decision}' is not a decision: use ship, stop or extend", field="decision"
        )
    decided_by, reason = decided_by.strip(), reason.strip()
    if not decided_by or len(decided_by) > MAX_BY:
        raise InvalidInput(f"say who decided, in 1 to {MAX_BY} characters", field="decided_by")
    if not reason:
        raise InvalidInput("say why", field="reason")
    now = clock()
    with store.transaction() as uow:
        program = active(uow, program_key)
        _experiment(program.compiled, experiment)
        uow.experiments.add_decision(program.id, experiment, decision, decided_by, reason, now)
        if actor is not None:
            after = {"decision": decision, "decided_by": decided_by, "reason": reason}
            audit.record(
                uow, actor, "experiment.decided", program.id, experiment, None, after, at=now
            )
    return ExperimentDecision(decision, decided_by, reason, now)


def _experiment(compiled: CompiledProgram, key: str) -> CompiledExperiment:
    found = compiled.experiments.get(key)
    if found is None:
        known = list(compiled.experiments)
        names = f"; known: {', '.join(known)}" if known else " (it has none)"
        raise NotFound(
            f"no experiment '{key}' in program '{compiled.key}'{did_you_mean(key, known)}{names}",
            field="experiment",
        )
    return found


def _summary(
    experiment: CompiledExperiment,
    now: datetime,
    sizes: dict[str, int],
    decided: list[ExperimentDecision],
) -> dict[str, Any]:
    """The fields of an ExperimentSummary (a report has them too)."""
    ts = now.timestamp()
    status = (
        "upcoming" if ts < experiment.starts else "running" if ts < experiment.ends else "ended"
    )
    return {
        "key": experiment.key,
        "name": experiment.name,
        "description": experiment.description,
        "status": status,
        "starts_at": _time(experiment.starts),
        "ends_at": _time(experiment.ends),
        "covers": list(experiment.covers),
        "split": experiment.share if experiment.cohort is None else None,
        "cohort": len(experiment.cohort) if experiment.cohort is not None else None,
        "arms": [ArmSize(arm, sizes.get(arm, 0)) for arm in (CONTROL, TREATMENT)],
        "decision": decided[-1] if decided else None,
    }


def _measured(
    uow: UnitOfWork,
    program_id: int,
    compiled: CompiledProgram,
    arms: Any,  # the experiment's (member_id, arm), a store query
    name: str,
    start: datetime,
    end: datetime,
) -> dict[str, int] | dict[str, list[float]]:
    """One outcome per arm, counted in the database: a rate's members with it, or a mean's
    per-member totals that are not zero (every other member of the arm has zero)."""
    _, outcome, kind = OUTCOME_MEASURES[name]
    if outcome == "active":
        bits = active_window(uow.conn, program_id, compiled, start, end)
        if bits is not None:
            return _members_per_arm(uow, arms, bits)
    query = outcome_occurrences(uow, program_id, compiled, outcome, start, end)
    if kind == "rate":
        return uow.analytics.members_per_arm(arms, ARMS, query)
    totals = uow.analytics.totals_per_arm(arms, ARMS, query)
    values: dict[str, list[float]] = {}
    for arm, counted in totals.items():
        found = values[arm] = []
        for total, members in counted:
            # whole minor units per member for pipeline, as the member's own figure
            found.extend([float(round(total)) if outcome == "pipeline" else total] * members)
    return values


def _members_per_arm(uow: UnitOfWork, arms: Any, bits: bytearray) -> dict[str, int]:
    """Members of each arm whose bits are set (the activity rollup's): the arms read once and
    tested here. Reading the window's events instead cost 320 ms of the bench's report on
    PostgreSQL."""
    in_arm: dict[str, set[int]] = {arm: set() for arm in ARMS}
    for member_id, arm in uow.conn.execute(arms).all():
        if arm in in_arm:
            in_arm[arm].add(member_id)
    return {
        arm: sum(1 for m in ids if m >> 3 < len(bits) and bits[m >> 3] >> (m & 7) & 1)
        for arm, ids in in_arm.items()
    }


def _outcome_row(
    compiled: CompiledProgram,
    name: str,
    sizes: dict[str, int],
    measured: dict[str, int] | dict[str, list[float]],
) -> OutcomeRow:
    description, _, kind = OUTCOME_MEASURES[name]
    n_c, n_t = sizes[CONTROL], sizes[TREATMENT]
    found: Comparison
    if kind == "rate":
        hits = cast(dict[str, int], measured)
        found = compare_counts(hits.get(CONTROL, 0), n_c, hits.get(TREATMENT, 0), n_t)
    else:
        totals = cast(dict[str, list[float]], measured)
        found = compare_means(
            _padded(totals.get(CONTROL, []), n_c), _padded(totals.get(TREATMENT, []), n_t)
        )
    analytics = compiled.definition.analytics
    pipeline = analytics.pipeline if analytics is not None else None
    return OutcomeRow(
        metric=name,
        kind=kind,
        description=description,
        control=found.control,
        treatment=found.treatment,
        difference=found.difference,
        ci_low=found.ci_low,
        ci_high=found.ci_high,
        p_value=found.p_value,
        test=found.test,
        currency=pipeline.currency if name == "pipeline" and pipeline is not None else None,
    )


def _padded(values: list[float], size: int) -> list[float]:
    """An arm's per-member values: those not zero, and a zero for each other member."""
    return values + [0.0] * max(size - len(values), 0)


def _decisions(rows: Sequence[Any]) -> dict[str, list[ExperimentDecision]]:
    """Decision rows (store rows: Any) by experiment, oldest first."""
    out: dict[str, list[ExperimentDecision]] = {}
    for r in rows:
        decision = ExperimentDecision(r.decision, r.decided_by, r.reason, r.decided_at)
        out.setdefault(r.experiment, []).append(decision)
    return out


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
