"""The pending period and points expiry as rules on ledger totals, without a database.

Which ledger entries count as earned: every kind but spending, refunds and expiries, which move
the balance only. The store sums entries by these kinds; these functions decide what the sums
mean.

Expiry is first in, first out, from totals: spending takes the oldest points first, so what
expires at ``now`` is what was earned by events up to ``now - after`` (net of reversals) and
has not been taken yet, by spending (net of refunds) or an earlier expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Entries that move the balance only, not earned points: spending, refunds, expiry, and an
# operator's manual adjustments.
BALANCE_ONLY_KINDS = ("redemption", "refund", "expiry", "manual")


def pending_since(now: datetime, pending_for: int) -> datetime:
    """Points earned by events received since this moment are not spendable yet. Received,
    not occurred: a backdated event still waits out the period."""
    return now - timedelta(seconds=pending_for)


def pending(earned_since: int) -> int:
    """The pending points, from what events received in the period earned net of their
    reversals (a reversal of an older event makes that sum negative: nothing is pending)."""
    return max(0, earned_since)


@dataclass(frozen=True)
class ExpiryTotals:
    """One member's ledger, summed for expiry."""

    earned: tuple[int, ...]  # earned (net of reversals) by events up to each cutoff
    taken: int  # what spending, refunds and expiries took (zero or less)
    expired: int  # what expiries took (zero or less)


def cutoffs(now: datetime, after: int, warn: int | None) -> list[datetime]:
    """The cutoffs ExpiryTotals.earned is summed at: what is due now, and (with a warning
    period) what is due by the end of it."""
    due = now - timedelta(seconds=after)
    return [due] + ([due + timedelta(seconds=warn)] if warn else [])


def due(totals: ExpiryTotals, balance: int) -> int:
    """The points that expire now: earned by the first cutoff and not taken yet, never more
    than the balance."""
    return max(0, min(totals.earned[0] + totals.taken, balance))


def coming(totals: ExpiryTotals, balance: int, due_now: int) -> int:
    """The points that will expire by the end of the warning period, beyond those due now."""
    return max(0, min(totals.earned[1] + totals.taken - due_now, balance - due_now))


def given_back(totals: ExpiryTotals) -> int:
    """After a reversal: what the member's expiries took beyond what they had earned by the
    cutoff (the reversed points were taken twice, by the expiry and by the reversal)."""
    return max(0, min(-(totals.earned[0] + totals.taken), -totals.expired))
