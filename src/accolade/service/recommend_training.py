"""Training a program's next-best-action model (``train``): every member's state sampled at
past times, one logistic regression per action fitted on whether it was rewarded within the
window after (service/recommend_model.py), its precision@3 on the latest times beside the
rule-based prior and the most popular actions, stored per program version. What it reports
(``model_summary``). Ranking with the model is service/recommend.py."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from accolade.engine.state import MemberState
from accolade.errors import NotFound
from accolade.program.compiled import CompiledProgram
from accolade.program.recommendations import Recommendations
from accolade.service import Clock, system_clock
from accolade.service.members import member_of
from accolade.service.programs import active
from accolade.service.recommend import section
from accolade.service.recommend_model import (
    DAY,
    Model,
    Samples,
    fit,
    prior,
    sample,
)
from accolade.store.unit_of_work import Store

MAX_SAMPLES = 400_000  # rows a training keeps (members drawn at random, seeded, beyond it)
TEST_SHARE = 0.2  # the latest share of the sampled times, held out for the offline metrics


@dataclass(frozen=True, slots=True)
class Metrics:
    """Precision@3 on the held-out later times: the model, the rule-based prior, and the most
    popular actions; over ``evaluated`` (member, time) rows with at least one completion."""

    model: float
    rules: float
    popular: float
    evaluated: int


@dataclass(frozen=True, slots=True)
class TrainReport:
    program: str
    program_version: int
    model_id: int
    trained_at: datetime
    members: int
    samples: int
    positives: int
    actions_modelled: list[str]
    actions_on_prior: list[str]
    metrics: Metrics


def train(
    store: Store,
    program_key: str,
    *,
    clock: Clock = system_clock,
    stride_days: int = 7,
    seed: int = 0,
) -> TrainReport:
    """Trains the active version's model on every member's history and stores it."""
    now = clock()
    with store.read() as uow:
        program = active(uow, program_key)
        compiled = program.compiled
        rows = list(uow.recommendations.member_rows(program.id))
        dismissal_rows = uow.recommendations.dismissals(program.id)
    states = [row_state(r) for r in rows]
    external = {int(r.id): str(r.external_id) for r in rows}
    dismissals = [(external.get(m, ""), k, at) for m, k, at in dismissal_rows]
    settings = section(compiled)
    window = settings.window_days * DAY
    actions = sorted(compiled.actions)
    report_samples, model, metrics, members = _fit_with_metrics(
        compiled,
        states,
        dismissals,
        actions,
        settings,
        window,
        stride_days,
        seed,
        int(now.timestamp()),
    )
    positives = sum(m.positives for m in model.actions.values())
    metrics_json = json.dumps(
        {
            "precision_at_3": {
                "model": metrics.model,
                "rules": metrics.rules,
                "popular": metrics.popular,
            },
            "evaluated": metrics.evaluated,
            "members": members,
        }
    )
    with store.transaction() as uow:
        model_id = uow.recommendations.save_model(
            program.id,
            compiled.version,
            trained_at=now,
            samples=report_samples,
            positives=positives,
            model=model.to_json(),
            metrics=metrics_json,
        )
    return TrainReport(
        compiled.key,
        compiled.version,
        model_id,
        now,
        members,
        report_samples,
        positives,
        sorted(model.actions),
        [a for a in actions if a not in model.actions],
        metrics,
    )


def row_state(row: Any) -> MemberState:
    """A member row (id, external_id, team, company, attributes, lifetime, balance, tier,
    progress: ``member_rows``) as its state."""
    found = member_of(_Found(*row))
    assert found is not None  # member_rows reads members with a state only
    return found.state


@dataclass(frozen=True, slots=True)
class _Found:
    """A member row under the names ``member_of`` reads."""

    member_id: int
    member_external_id: str
    member_team: str | None
    member_company: str | None
    member_attributes: dict[str, object] | None
    member_lifetime: int
    member_balance: int
    member_tier: str | None
    member_progress: str | None


def _fit_with_metrics(
    compiled: CompiledProgram,
    states: list[MemberState],
    dismissals: list[tuple[str, str, datetime]],
    actions: list[str],
    settings: Recommendations,
    window: int,
    stride_days: int,
    seed: int,
    now: int,
) -> tuple[int, Model, Metrics, int]:
    firsts = [occ[0] for s in states for occ in s.occurrences.values() if occ]
    start = min(firsts, default=now)
    end = min(now, max((o[-1] for s in states for o in s.occurrences.values() if o), default=now))
    rng = random.Random(seed)
    members = len(states)
    # keep at most MAX_SAMPLES rows: a seeded draw of members when the history is larger
    per_member = max(1, (end - start) // (stride_days * DAY))
    if members * per_member > MAX_SAMPLES:
        states = rng.sample(states, max(1, MAX_SAMPLES // per_member))
    dismissed = _dismissed_actions(compiled, states, dismissals)
    samples = sample(
        states,
        actions,
        settings.attributes,
        window=window,
        start=start,
        end=end,
        stride=stride_days * DAY,
        dismissed=dismissed,
    )
    _, row_times = samples.matrix({n: i for i, n in enumerate(samples.features)})
    total = len(row_times)
    if total == 0:
        empty = fit(
            samples,
            actions,
            settings.attributes,
            window_days=settings.window_days,
            min_positives=settings.min_positives,
        )
        return 0, empty, Metrics(0.0, 0.0, 0.0, 0), members
    split = float(np.quantile(row_times, 1 - TEST_SHARE))
    train_mask = row_times < split
    held = fit(
        samples,
        actions,
        settings.attributes,
        window_days=settings.window_days,
        min_positives=settings.min_positives,
        mask=train_mask,
    )
    metrics = evaluate(compiled, held, samples, actions, ~train_mask)
    model = fit(
        samples,
        actions,
        settings.attributes,
        window_days=settings.window_days,
        min_positives=settings.min_positives,
    )
    return total, model, metrics, members


def _dismissed_actions(
    compiled: CompiledProgram,
    states: list[MemberState],
    dismissals: list[tuple[str, str, datetime]],
) -> dict[str, list[tuple[str, int]]]:
    """Dismissals as (action, time) per member: a dismissed candidate's action is a negative
    example at the time of the dismissal."""
    out: dict[str, list[tuple[str, int]]] = {}
    wanted = {s.member for s in states}
    for member, key, at in dismissals:
        action = action_of(compiled, key)
        if member in wanted and action is not None:
            out.setdefault(member, []).append((action, int(at.timestamp())))
    return out


def action_of(compiled: CompiledProgram, key: str) -> str | None:
    """The action that completes a candidate, from its key alone."""
    kind, _, rest = key.partition(":")
    if kind == "action":
        return rest if rest in compiled.actions else None
    if kind == "challenge":
        challenge = compiled.challenges.get(rest)
        return challenge.goal_action if challenge else None
    if kind == "quest":
        quest_key, _, step_key = rest.partition(":")
        quest = compiled.quests.get(quest_key)
        step = next((s for s in quest.steps if s.key == step_key), None) if quest else None
        return step.action if step else None
    if kind == "streak":
        streak = next((s for s in compiled.definition.streaks if s.key == rest), None)
        return streak.action if streak else None
    return None


def evaluate(
    compiled: CompiledProgram,
    model: Model,
    samples: Samples,
    actions: list[str],
    mask: np.ndarray,
) -> Metrics:
    """Precision@3 over the held-out rows with a completion, ranking every action: by the
    model's P (what it predicts the member completes; the list then weighs it by value), by
    the rule-based score (prior times value, the cold start), by popularity."""
    x, _ = samples.matrix(model.index)
    y = np.concatenate(samples.labels)[mask]
    x = x[mask]
    keep = y.any(axis=1)
    x, y = x[keep], y[keep]
    if not len(y):
        return Metrics(0.0, 0.0, 0.0, 0)
    from accolade.engine.candidates import action_value

    values = np.asarray([max(1, action_value(compiled.actions[a])) for a in actions], float)
    kinds = [_action_kind(compiled, a) for a in actions]
    rates = np.asarray([model.base_rates.get(a, 0.0) for a in actions])
    probabilities = np.column_stack(
        [
            _probabilities(model, a, x) if a in model.actions else np.full(len(x), prior(k))
            for a, k in zip(actions, kinds, strict=True)
        ]
    )
    rules = np.asarray([prior(k) for k in kinds]) * values
    return Metrics(
        _precision_at_3(probabilities, y),
        _precision_at_3(np.tile(rules, (len(y), 1)), y),
        _precision_at_3(np.tile(rates, (len(y), 1)), y),
        len(y),
    )


def _action_kind(compiled: CompiledProgram, action: str) -> str:
    from accolade.program.compiled import REFERENCE_EVENTS, REFERRAL_EVENTS

    event_type = compiled.actions[action].event_type
    if event_type in REFERRAL_EVENTS:
        return "referral"
    return "ask" if event_type in REFERENCE_EVENTS else "action"


def _probabilities(model: Model, action: str, x: np.ndarray) -> np.ndarray:
    found = model.actions[action]
    z = np.clip(found.intercept + x @ found.coefficients, -50, 50)
    return 1.0 / (1.0 + np.exp(-z))


def _precision_at_3(scores: np.ndarray, y: np.ndarray) -> float:
    k = min(3, scores.shape[1])
    # ties broken by column order, the same for every ranking
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(y, top, axis=1).sum(axis=1)
    return round(float(np.mean(hits / k)), 4)


def model_summary(store: Store, program_key: str) -> dict[str, Any]:
    """The served model of the active version: id, when trained, sample sizes, metrics."""
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.recommendations.latest_model(program.id, program.compiled.version)
    if row is None:
        raise NotFound(
            f"no trained model for program '{program_key}': run accolade recommend train",
            field="program",
        )
    return {
        "model_id": int(row.id),
        "program_version": int(row.program_version),
        "trained_at": row.trained_at,
        "samples": int(row.samples),
        "positives": int(row.positives),
        "metrics": json.loads(row.metrics),
    }
