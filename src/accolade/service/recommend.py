"""Next best actions: rank what each member is eligible for with their reasons
(``next_actions``), with the model service/recommend_training.py trained on the program's
history, and log a dismissal (``dismiss``) through ingest, so replay keeps it and training
learns from it."""

from __future__ import annotations

import hashlib
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
from accolade.errors import InvalidInput
from accolade.program.compiled import RECOMMENDATION_DISMISSED, CompiledProgram
from accolade.program.recommendations import Recommendations
from accolade.service import Clock, system_clock
from accolade.service.ingest import ingest_batch
from accolade.service.members import program_and_member
from accolade.service.programs import ActiveProgram
from accolade.service.recommend_model import (
    Model,
    features_at,
    prior,
)
from accolade.service.references import fatigue, opted_out
from accolade.service.rewards import unavailable
from accolade.store.unit_of_work import Store, UnitOfWork

DEFAULTS = Recommendations()


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


def section(program: CompiledProgram) -> Recommendations:
    return program.definition.recommendations or DEFAULTS


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


_KINDS = ("action", "challenge", "quest", "streak", "tier", "reward")


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
