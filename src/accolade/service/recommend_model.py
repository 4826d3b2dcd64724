"""The next best action model: features of a member at a time, read from their state alone
(so training and serving compute them the same way), one scikit-learn logistic regression per
action trained on the program's history, stored as JSON (coefficients, intercept and feature
names: readable, no pickle), and the rule-based prior that scores what the model cannot."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from accolade.engine.state import MemberState

DAY = 86_400
RECENT_DAYS = 30
NEVER_DAYS = 365.0  # the recency of a member with no rewarded occurrence yet
# P(complete) of a candidate when the model cannot say (thin history, or no action alone
# completes it): a prior per mechanic, the cold-start rule.
PRIORS: Mapping[str, float] = {
    "streak": 0.5,
    "quest": 0.3,
    "reward": 0.3,
    "challenge": 0.2,
    "tier": 0.2,
    "action": 0.1,
    "referral": 0.05,
    "ask": 0.05,
}
MODEL_FORMAT = 1


def prior(kind: str) -> float:
    return PRIORS.get(kind, 0.1)


def features_at(
    state: MemberState, attributes: Sequence[str], times: NDArray[np.int64]
) -> dict[str, NDArray[np.float64]]:
    """The member's features at each of ``times`` (epoch seconds), by name: one-hot
    attributes (``attr:role=admin``), stage and tier (as they are now: the state keeps no
    history of them), recency (log days since the last rewarded occurrence before the time),
    frequency (log occurrences in the 30 days before) and past completions per action
    (``done:ACTION``, log count before the time). Names absent from the model are ignored."""
    n = len(times)
    ones = np.ones(n)
    out: dict[str, NDArray[np.float64]] = {}
    for name in attributes:
        value = state.attributes.get(name)
        if value is not None:
            out[f"attr:{name}={value}"] = ones
    if state.stage is not None:
        out[f"stage:{state.stage}"] = ones
    if state.tier is not None:
        out[f"tier:{state.tier}"] = ones
    last = np.full(n, -1, dtype=np.int64)
    recent = np.zeros(n)
    for action, occurred in state.occurrences.items():
        if not occurred:
            continue
        at = np.asarray(occurred, dtype=np.int64)
        before = np.searchsorted(at, times, side="left")  # occurrences strictly before
        if before.any():
            out[f"done:{action}"] = np.log1p(before.astype(np.float64))
            latest = np.where(before > 0, at[np.maximum(before - 1, 0)], -1)
            last = np.maximum(last, latest)
        recent += before - np.searchsorted(at, times - RECENT_DAYS * DAY, side="left")
    days = np.where(last >= 0, (times - last) / DAY, NEVER_DAYS)
    out["recency"] = np.log1p(np.clip(days, 0, NEVER_DAYS))
    out["frequency"] = np.log1p(recent)
    return out


def completed_within(
    state: MemberState, actions: Sequence[str], times: NDArray[np.int64], window: int
) -> NDArray[np.bool_]:
    """(len(times), len(actions)): the action was rewarded in (time, time + window]."""
    out = np.zeros((len(times), len(actions)), dtype=bool)
    for j, action in enumerate(actions):
        occurred = state.occurrences.get(action)
        if not occurred:
            continue
        at = np.asarray(occurred, dtype=np.int64)
        out[:, j] = np.searchsorted(at, times + window, side="right") > np.searchsorted(
            at, times, side="right"
        )
    return out


@dataclass(frozen=True, slots=True)
class ActionModel:
    """One action's logistic regression: P(its rewarded occurrence within the window)."""

    intercept: float
    coefficients: NDArray[np.float64]
    samples: int
    positives: int


@dataclass(frozen=True, slots=True)
class Model:
    """A program's trained model: the shared feature names and one regression per action with
    enough history."""

    features: tuple[str, ...]
    attributes: tuple[str, ...]
    window_days: int
    actions: Mapping[str, ActionModel]
    base_rates: Mapping[str, float]  # each action's share of positive samples (popularity)
    index: Mapping[str, int] = field(default_factory=dict)

    def vector(self, named: Mapping[str, NDArray[np.float64]], n: int) -> NDArray[np.float64]:
        """(n, features): the named features placed in the model's columns."""
        x = np.zeros((n, len(self.features)))
        for name, values in named.items():
            column = self.index.get(name)
            if column is not None:
                x[:, column] = values
        return x

    def probability(self, action: str, x: NDArray[np.float64]) -> float | None:
        found = self.actions.get(action)
        if found is None:
            return None
        z = found.intercept + float(x @ found.coefficients)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def contributions(
        self, action: str, x: NDArray[np.float64], top: int = 3
    ) -> list[tuple[str, float]]:
        """The features that raise the action's score most for this member: (name,
        coefficient times value), largest first, positive ones only."""
        found = self.actions.get(action)
        if found is None:
            return []
        parts = found.coefficients * x
        order = np.argsort(-parts)[:top]
        return [(self.features[i], float(parts[i])) for i in order if parts[i] > 1e-6]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "kind": "logistic_regression",
                "features": list(self.features),
                "attributes": list(self.attributes),
                "window_days": self.window_days,
                "base_rates": dict(self.base_rates),
                "actions": {
                    key: {
                        "intercept": m.intercept,
                        "coefficients": [round(float(c), 6) for c in m.coefficients],
                        "samples": m.samples,
                        "positives": m.positives,
                    }
                    for key, m in sorted(self.actions.items())
                },
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Model:
        data = json.loads(text)
        features = tuple(data["features"])
        return cls(
            features=features,
            attributes=tuple(data["attributes"]),
            window_days=int(data["window_days"]),
            actions={
                key: ActionModel(
                    float(m["intercept"]),
                    np.asarray(m["coefficients"], dtype=np.float64),
                    int(m["samples"]),
                    int(m["positives"]),
                )
                for key, m in data["actions"].items()
            },
            base_rates={k: float(v) for k, v in data["base_rates"].items()},
            index={name: i for i, name in enumerate(features)},
        )


@dataclass(slots=True)
class Samples:
    """Training rows: each a (member, time) with its features, and per action whether it was
    completed within the window after the time."""

    features: list[str]
    rows: list[dict[str, NDArray[np.float64]]]
    counts: list[int]
    times: list[NDArray[np.int64]]
    labels: list[NDArray[np.bool_]]

    def matrix(self, index: Mapping[str, int]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        total = sum(self.counts)
        x = np.zeros((total, len(index)))
        at = 0
        for named, n in zip(self.rows, self.counts, strict=True):
            for name, values in named.items():
                x[at : at + n, index[name]] = values
            at += n
        times = np.concatenate(self.times) if self.times else np.zeros(0, dtype=np.int64)
        return x, times


def sample(
    states: Iterable[MemberState],
    actions: Sequence[str],
    attributes: Sequence[str],
    *,
    window: int,
    start: int,
    end: int,
    stride: int,
    dismissed: Mapping[str, Sequence[tuple[str, int]]] | None = None,
) -> Samples:
    """Rows at every ``stride`` seconds from ``start`` while a whole window fits before
    ``end``, for each member from their first rewarded occurrence on. A dismissal of a
    candidate with action A at time d adds a row at d labelled "not completed" for A."""
    grid = np.arange(start, end - window + 1, stride, dtype=np.int64)
    names: dict[str, None] = {}
    out = Samples([], [], [], [], [])
    for state in states:
        first = min((o[0] for o in state.occurrences.values() if o), default=None)
        times = grid[grid >= first] if first is not None else grid[:0]
        extra = [(a, d) for a, d in (dismissed or {}).get(state.member, ()) if a in actions]
        if extra:
            times = np.concatenate([times, np.asarray([d for _, d in extra], dtype=np.int64)])
        if not len(times):
            continue
        named = features_at(state, attributes, times)
        labels = completed_within(state, actions, times, window)
        for i, (action, _) in enumerate(extra):
            labels[len(times) - len(extra) + i, actions.index(action)] = False
        names.update(dict.fromkeys(named))
        out.rows.append(named)
        out.counts.append(len(times))
        out.times.append(times)
        out.labels.append(labels)
    out.features = sorted(names)
    return out


def fit(
    samples: Samples,
    actions: Sequence[str],
    attributes: Sequence[str],
    *,
    window_days: int,
    min_positives: int,
    mask: NDArray[np.bool_] | None = None,
) -> Model:
    """One logistic regression per action with at least ``min_positives`` positive rows (and
    a negative one); rows where ``mask`` is False are left out (the time split)."""
    from sklearn.linear_model import LogisticRegression  # imported when training, not serving

    index = {name: i for i, name in enumerate(samples.features)}
    x, _ = samples.matrix(index)
    y = np.concatenate(samples.labels) if samples.labels else np.zeros((0, len(actions)), bool)
    if mask is not None:
        x, y = x[mask], y[mask]
    fitted: dict[str, ActionModel] = {}
    rates: dict[str, float] = {}
    for j, action in enumerate(actions):
        positives = int(y[:, j].sum()) if len(y) else 0
        rates[action] = positives / len(y) if len(y) else 0.0
        if positives < min_positives or positives == len(y):
            continue
        regression = LogisticRegression(C=1.0, max_iter=300)
        regression.fit(x, y[:, j])
        fitted[action] = ActionModel(
            float(regression.intercept_[0]),
            np.asarray(regression.coef_[0], dtype=np.float64),
            len(y),
            positives,
        )
    return Model(
        tuple(samples.features),
        tuple(attributes),
        window_days,
        fitted,
        rates,
        index,
    )
