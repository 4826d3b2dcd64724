"""An action's variable reward, compiled: its weighted table of bonus points, and the table in
words. The draw itself is the engine's (``engine.bonus``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class BonusTable:
    """One action's outcomes, compiled: a draw is one hash and one bisect."""

    action: str
    rule: str  # "bonus:<action key>", as ledger entries name it
    weights: tuple[int, ...]
    points: tuple[int, ...]
    cumulative: tuple[int, ...]  # running sums of ``weights``; the last is the total
    total: int

    @classmethod
    def of(cls, action: str, outcomes: Iterable[tuple[int, int]]) -> BonusTable:
        """From (weight, points) pairs in file order (the loader checked weights >= 1)."""
        pairs = list(outcomes)
        weights = tuple(w for w, _ in pairs)
        cumulative = tuple(accumulate(weights))
        return cls(
            action=action,
            rule=f"bonus:{action}",
            weights=weights,
            points=tuple(p for _, p in pairs),
            cumulative=cumulative,
            total=cumulative[-1],
        )

    def expected(self) -> Fraction:
        """Bonus points per rewarded event, on average: sum of weight x points / sum of weights."""
        return Fraction(
            sum(w * p for w, p in zip(self.weights, self.points, strict=True)), self.total
        )

    def odds(self) -> str:
        """The table in words: ``90% +0, 9% +10, 1% +100``."""
        return ", ".join(
            f"{_percent(w, self.total)}% +{p:,}"
            for w, p in zip(self.weights, self.points, strict=True)
        )

    def summary(self) -> str:
        """``bonus expected +1.9 per rewarded event (90% +0, 9% +10, 1% +100)``."""
        return f"bonus expected +{_decimal(self.expected())} per rewarded event ({self.odds()})"


def _percent(weight: int, total: int) -> str:
    share = Fraction(100 * weight, total)
    text = _decimal(share)
    if text == "0":
        return "<0.01"
    if text == "100" and share != 100:
        return ">99.99"
    return text


def _decimal(value: Fraction) -> str:
    """At most two decimals, without trailing zeros: 1.9, 3.33, 5."""
    text = f"{float(value):,.2f}"
    return text.rstrip("0").rstrip(".")
