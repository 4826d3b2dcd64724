"""Next best actions: train a program's model on its history (``train``), rank what each
member is eligible for with their reasons (``next_actions``), and log a dismissal
(``dismiss``) through ingest, so replay keeps it and training learns from it."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from accolade.engine.candidates import Candidate, candidates
from accolade.engine.experiments import recommendations_withheld_by
from accolade.engine.state import MemberState
from accolade.errors import InvalidInput, NotFound
from accolade.program.compiled import RECOMMENDATION_DISMISSED, CompiledProgram
from accolade.program.recommendations import Recommendations
from accolade.service import Clock, system_clock
from accolade.service.ingest import ingest_batch
from accolade.service.members import member_of, program_and_member
from accolade.service.programs import ActiveProgram, active
from accolade.service.recommend_model import (
    DAY,
    Model,
    Samples,
    features_at,
    fit,
    prior,
    sample,
)
from accolade.service.references import fatigue, opted_out
from accolade.service.rewards import unavailable
from accolade.store.unit_of_work import Store, UnitOfWork

DEFAULTS = Recommendations()
MAX_SAMPLES = 400_000  # rows a training keeps (members drawn at random, seeded, beyond it)
TEST_SHARE = 0.2  # the latest share of the sampled times, held out for the offline metrics


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A candidate as ranked for one member: P(complete within the window) times its value,
    and why, in words: the rule that made it eligible first, then the trigger and the features
    that raised it."""

    rank: int
    kind: str
    key: str
    name: str
    action: str | None
    value: int
    probability: float
    score: float
    source: str  # model | prior | trigger | exploration
    reasons: list[str]
    until: datetime | None


@dataclass(frozen=True, slots=True)
class NextActions:
    """A member's list, or why they have none: ``held_out`` names the running experiment
    covering recommendations whose control arm the member is in (its list is then empty)."""

    member: str
    recommendations: list[Recommendation]
    held_out: str | None = None


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


def section(program: CompiledProgram) -> Recommendations:
    return program.definition.recommendations or DEFAULTS


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


# models parsed once per stored row (rows never change: a new training is a new row)
_models: dict[int, Model] = {}
_models_lock = threading.Lock()


def next_actions(
    store: Store,
    program_key: str,
    member: str,
    *,
    limit: int = 5,
    clock: Clock = system_clock,
) -> NextActions:
    """The member's next best actions as of ``clock()``, best first, each with its reasons;
    candidates they dismissed within the program's ``dismiss_days`` are left out. A member
    in the control arm of a running experiment covering recommendations gets none, and is
    told why (``held_out``)."""
    if not 1 <= limit <= 50:
        raise InvalidInput("must be between 1 and 50", field="limit")
    now = clock()
    ts = int(now.timestamp())
    with store.read() as uow:
        program, row = program_and_member(uow, program_key, member)
        compiled = program.compiled
        experiment = recommendations_withheld_by(compiled, row.state, ts)
        if experiment is not None:
            return NextActions(member, [], held_out(experiment.key))
        settings = section(compiled)
        since = now - timedelta(days=settings.dismiss_days)
        dismissed = {k for _, k, _ in uow.recommendations.dismissals(program.id, row.id, since)}
        found = candidates(compiled, row.state, ts)
        closed = out_of_reach(uow, program, int(row.id), row.state, found, now)
        model = _model(uow, program.id, compiled.version)
    ranked = rank(compiled, model, row.state, ts, dismissed | closed.keys(), limit, found=found)
    return NextActions(member, ranked)


def out_of_reach(
    uow: UnitOfWork,
    program: ActiveProgram,
    member_pk: int,
    state: MemberState,
    found: list[Candidate],
    now: datetime,
) -> dict[str, str]:
    """The candidates the member's state allows but the store's shared counts rule out, each
    with why: a reward out of stock, over the member's limit or beyond their spendable points
    (the rewards service's words); a reference ask to a member who opted out of them, and any
    reference or referral ask to a member at one of the program's fatigue limits (the
    references service's count of asks)."""
    compiled = program.compiled
    out: dict[str, str] = {}
    items = [compiled.rewards[c.key.partition(":")[2]] for c in found if c.kind == "reward"]
    for key, why in unavailable(uow, program, member_pk, state, items, now).items():
        out[f"reward:{key}"] = why
    asks = [c for c in found if c.kind in ("ask", "referral")]
    if asks:
        tired = fatigue(uow, compiled, member_pk, now)
        refused = opted_out(state.attributes)
        for c in asks:
            if tired is not None:
                out[c.key] = tired
            elif refused and c.kind == "ask":
                out[c.key] = "opted out of reference requests"
    return out


def held_out(experiment: str) -> str:
    """Why a member has no list: "experiment <key>: control arm"."""
    return f"experiment {experiment}: control arm"


def _model(uow: Any, program_id: int, version: int) -> Model | None:
    model_id = uow.recommendations.latest_model_id(program_id, version)
    if model_id is None:
        return None
    with _models_lock:
        found = _models.get(model_id)
    if found is None:
        found = Model.from_json(uow.recommendations.model_json(model_id))
        with _models_lock:
            _models[model_id] = found
    return found


def rank(
    compiled: CompiledProgram,
    model: Model | None,
    state: MemberState,
    now: int,
    dismissed: Set[str] = frozenset(),
    limit: int = 5,
    *,
    found: list[Candidate] | None = None,
) -> list[Recommendation]:
    """The member's candidates at ``now`` ranked: those a trigger surfaced first, then by
    P(complete within the window) times value (the model's P for an action it was trained on,
    else the prior of the candidate's mechanic); with the program's exploration share, the
    last place goes to a lower candidate drawn by a generator seeded by member and day.
    ``found``: the member's candidates at ``now`` when the caller has them already."""
    settings = section(compiled)
    if found is None:
        found = candidates(compiled, state, now)
    found = [c for c in found if c.key not in dismissed]
    if not found:
        return []
    x = None
    if model is not None:
        named = features_at(state, model.attributes, np.asarray([now], dtype=np.int64))
        x = model.vector(named, 1)[0]
    scored = []
    for c in found:
        p = model.probability(c.action, x) if model and x is not None and c.action else None
        source = "model" if p is not None else "prior"
        probability = p if p is not None else prior(c.kind)
        score = probability * max(1, c.value)
        if c.triggered_by is not None:
            source = "trigger"
        scored.append((c.triggered_by is None, -score, c.key, c, probability, source))
    scored.sort(key=lambda s: s[:3])
    chosen = scored[:limit]
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    draw = random.Random(hashlib.sha256(f"{state.member}:{day}".encode()).digest())
    if len(scored) > limit and draw.random() < settings.exploration:
        pick = draw.choice(scored[limit:])
        chosen = [*chosen[:-1], (*pick[:5], "exploration")]
    out = []
    for number, (_, negative, _, c, probability, source) in enumerate(chosen, 1):
        reasons = [c.reason]
        if c.triggered_by is not None:
            reasons.append(f"surfaced {c.triggered_by}")
        if source == "exploration":
            reasons.append("shown to explore: drawn at random for you today")
        if model is not None and x is not None and c.action and c.action in model.actions:
            reasons += [_feature_words(n, v) for n, v in model.contributions(c.action, x)]
        basis = (
            "members like you"
            if c.action and model and c.action in model.actions
            else (f"the rule for a {c.kind}")
        )
        reasons.append(
            f"{probability:.0%} chance within {settings.window_days} days ({basis}) "
            f"x value {c.value:,}"
        )
        out.append(
            Recommendation(
                rank=number,
                kind=c.kind,
                key=c.key,
                name=c.name,
                action=c.action,
                value=c.value,
                probability=round(probability, 4),
                score=round(-negative, 4),
                source=source,
                reasons=reasons,
                until=datetime.fromtimestamp(c.until, UTC) if c.until is not None else None,
            )
        )
    return out


def _feature_words(name: str, weight: float) -> str:
    """A feature's contribution in words a member reads."""
    what, _, rest = name.partition(":")
    if what == "attr":
        attribute, _, value = rest.partition("=")
        words = f"your {attribute} is {value}"
    elif what == "done":
        words = f"you did {rest} before"
    elif what in ("stage", "tier"):
        words = f"your {what} is {rest}"
    elif name == "recency":
        words = "the days since your last activity"
    else:
        words = "your activity in the last 30 days"
    return f"{words} (+{weight:.2f})"


def dismiss(
    store: Store,
    program_key: str,
    member: str,
    candidate: str,
    *,
    clock: Clock = system_clock,
) -> datetime:
    """Logs that the member dismissed ``candidate`` (a `recommendation.dismissed` event,
    through ingest, so replay keeps it): hidden from their list for the program's
    ``dismiss_days`` from now, and a negative example for the next training. The same
    candidate dismissed again the same day is a duplicate. Returns until when it is hidden."""
    kind, _, rest = candidate.partition(":")
    if kind not in _KINDS or not rest:
        raise InvalidInput(
            f"not a candidate key: expected one of {', '.join(_KINDS)} then ':KEY'",
            field="candidate",
        )
    now = clock()
    with store.read() as uow:
        program, _ = program_and_member(uow, program_key, member)
        days = section(program.compiled).dismiss_days
    event = {
        "id": f"{RECOMMENDATION_DISMISSED}:{member}:{candidate}:{now.date().isoformat()}",
        "type": RECOMMENDATION_DISMISSED,
        "member": member,
        "occurred_at": now.astimezone(UTC).isoformat(),
        "properties": {"candidate": candidate},
    }
    [outcome] = ingest_batch(store, program_key, [(0, event)], clock=clock)
    if outcome.error is not None:
        raise outcome.error
    return now + timedelta(days=days)


_KINDS = ("action", "challenge", "quest", "streak", "tier", "reward")


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
