"""What evaluating an event produces: ledger entries and the member's next state."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

from accolade.engine.state import MemberState


class EntryKind(StrEnum):
    EARN = "earn"  # an action's points
    LIMITED = "limited"  # an action matched but a limit stopped it: 0 points, says which
    BADGE = "badge"  # a badge awarded (with its own points, if any)
    BADGE_REVOKED = "badge_revoked"
    TIER = "tier"  # the member's tier changed
    REVERSAL = "reversal"  # compensates the points of a reversed event
    ADJUSTMENT = "adjustment"  # re-evaluation of a later event after a reversal
    QUEST = "quest"  # a quest step done (period: the step), or the quest completed (period "")
    CHALLENGE = "challenge"  # a challenge's reward (goal reached, or won at the close)
    BONUS = "bonus"  # an action's variable reward: a non-zero draw from its bonus table
    STAGE = "stage"  # the member entered a lifecycle stage (0 points; the reason names the rule)
    STREAK = "streak"  # a streak milestone reached (with its points, if any)
    LEADERBOARD = "leaderboard"  # a leaderboard's prize for the top N at a window's close
    REDEMPTION = "redemption"  # points spent on a catalogue reward (balance only)
    REFUND = "refund"  # a rejected or cancelled redemption's points given back
    EXPIRY = "expiry"  # earned points not spent in time, taken from the balance (oldest first)
    MANUAL = "manual"  # points a console operator added or took, with their reason (balance only)
    # 0 points: a member's arm in an experiment (rule experiment:KEY, period the arm), or a
    # covered rule the control group does not get (rule badge:KEY, quest:KEY, ...; period control)
    EXPERIMENT = "experiment"
    # 0 points: a lead completed an assessment (rule assessment:KEY; the reason gives the total,
    # level and segment, the stored result the rest)
    ASSESSMENT = "assessment"


class Status(StrEnum):
    ACCEPTED = "accepted"
    LIMITED = "limited"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Entry(NamedTuple):
    """One ledger line (a NamedTuple: immutable, and built per event on the hot path). ``rule`` is qualified: ``action:quiz_passed``, ``bonus:quiz_passed``, ``badge:x``, ``tier:gold``."""

    event_id: str  # the event this entry is about (the sender's id)
    kind: EntryKind
    rule: str
    points: int  # change of the spendable balance
    lifetime_points: int  # change of lifetime earned points (drives tiers)
    reason: str
    version: int
    period: str = ""

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind.value, "rule": self.rule, "points": self.points}
        if self.period:
            out["period"] = self.period
        out["reason"] = self.reason
        return out


class Evaluation(NamedTuple):
    """One per event on the hot path: a NamedTuple, immutable and cheap to build."""

    status: Status
    entries: tuple[Entry, ...]
    state: MemberState
    notes: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        return sum(e.points for e in self.entries)

    def result(self) -> dict[str, object]:
        """What the sender is told, now and on every duplicate of this event."""
        return entries_result(self.status, self.entries, self.notes)


def entries_result(
    status: Status, entries: Sequence[Entry], notes: Sequence[str]
) -> dict[str, object]:
    """An evaluated event's result, from its entries."""
    return result_of(status.value, [e.as_dict() for e in entries], notes)


def result_of(
    status: str, entries: Sequence[dict[str, object]], notes: Sequence[str]
) -> dict[str, object]:
    """An event's result from its entries: built alike when evaluated and when read back."""
    out: dict[str, object] = {"status": status, "points": sum(int(e["points"]) for e in entries)}  # type: ignore[call-overload]
    if entries:
        out["entries"] = list(entries)
    if notes:
        out["notes"] = list(notes)
    return out
