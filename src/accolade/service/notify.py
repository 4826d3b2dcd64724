"""Effects worth telling a host (webhooks), as outbox messages written in the effect's own
transaction: nothing is announced that did not commit, nothing committed goes untold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from accolade.engine.challenges import WON
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.state import MemberState, compact_json
from accolade.program.compiled import CompiledQuest

POINTS_AWARDED = "points.awarded"
BADGE_EARNED = "badge.earned"
BADGE_REVOKED = "badge.revoked"
TIER_CHANGED = "tier.changed"
EVENT_REVERSED = "event.reversed"
QUEST_COMPLETED = "quest.completed"
QUEST_UNDONE = "quest.undone"
CHALLENGE_WON = "challenge.won"  # a member won a challenge (reached its goal, or ranked)
STAGE_CHANGED = "stage.changed"
REWARD_REDEEMED = "reward.redeemed"  # a member redeemed a catalogue item (service.rewards)
REDEMPTION_UPDATED = "redemption.updated"  # approved, fulfilled, rejected or cancelled
POINTS_EXPIRING = "points.expiring"  # points will expire soon (service.expiry)
LEAD_ASSESSED = "lead.assessed"  # a lead completed an assessment (service.assessments)
EFFECT_TYPES = (
    POINTS_AWARDED,
    BADGE_EARNED,
    BADGE_REVOKED,
    TIER_CHANGED,
    EVENT_REVERSED,
    QUEST_COMPLETED,
    QUEST_UNDONE,
    CHALLENGE_WON,
    STAGE_CHANGED,
    REWARD_REDEEMED,
    REDEMPTION_UPDATED,
    POINTS_EXPIRING,
    LEAD_ASSESSED,
)

Message = tuple[str, str]  # (type, JSON payload)


def notices(
    wanted: frozenset[str],
    event_id: str,
    before: MemberState,
    after: MemberState,
    entries: Sequence[Entry],
    now: datetime,
    reversal_reason: str | None = None,
    quests: Mapping[str, CompiledQuest] | None = None,
) -> list[Message]:
    """The messages one event (or its reversal) gives, limited to the ``wanted`` types;
    ``quests`` (the program's) give completed quests their entitlements."""
    if not wanted:
        return []
    stamp = now.isoformat().replace("+00:00", "Z")
    found = [
        *_points(event_id, after, entries, reversal_reason),
        *_badges(after.member, entries),
        *_quests(event_id, before, after, quests or {}),
        *_challenges(event_id, before, after),
        *_changes(event_id, before, after),
    ]
    return [
        (type_, compact_json({"type": type_, "timestamp": stamp, "data": data}))
        for type_, data in found
        if "*" in wanted or type_ in wanted
    ]


Found = list[tuple[str, dict[str, object]]]  # (message type, its data)


def _points(
    event_id: str, after: MemberState, entries: Sequence[Entry], reversal_reason: str | None
) -> Found:
    """The event's points awarded, or its reversal with what it took back."""
    points = sum(e.points for e in entries)
    data: dict[str, object] = {"member": after.member, "event_id": event_id}
    if reversal_reason is not None:
        data |= {"reason": reversal_reason, "points": points}
        kind = EVENT_REVERSED
    elif points > 0:
        data["points"] = points
        kind = POINTS_AWARDED
    else:
        return []
    return [(kind, data | {"balance": after.balance, "lifetime": after.lifetime})]


def _badges(member: str, entries: Sequence[Entry]) -> Found:
    return [
        (
            BADGE_EARNED if e.kind is EntryKind.BADGE else BADGE_REVOKED,
            {
                "member": member,
                "event_id": e.event_id,
                "badge": e.rule.removeprefix("badge:"),
                "period": e.period,
            },
        )
        for e in entries
        if e.kind is EntryKind.BADGE or e.kind is EntryKind.BADGE_REVOKED
    ]


def _quests(
    event_id: str, before: MemberState, after: MemberState, quests: Mapping[str, CompiledQuest]
) -> Found:
    """Quests completed, with the entitlements they grant, and quests undone by a reversal."""
    if after.quests_done is before.quests_done:
        return []
    done, had = after.quests_done.keys(), before.quests_done.keys()
    found: Found = []
    for type_, keys in ((QUEST_COMPLETED, done - had), (QUEST_UNDONE, had - done)):
        for key in sorted(keys):
            quest = quests.get(key)
            granted = dict(quest.entitlements) if quest else {}
            data = {"member": after.member, "event_id": event_id, "quest": key}
            found.append((type_, data | {"entitlements": granted}))
    return found


def _challenges(event_id: str, before: MemberState, after: MemberState) -> Found:
    """Challenges won by this event: their reward paid (on reaching the goal, or at the
    close, ranked)."""
    if after.challenges is before.challenges:
        return []
    found: Found = []
    for key, record in sorted(after.challenges.items()):
        had = before.challenges.get(key)
        if record[WON] is not None and (had is None or had[WON] is None):
            found.append(
                (CHALLENGE_WON, {"member": after.member, "event_id": event_id, "challenge": key})
            )
    return found


def _changes(event_id: str, before: MemberState, after: MemberState) -> Found:
    """A new stage, a new tier."""
    found: Found = []
    for type_, old, new in (
        (STAGE_CHANGED, before.stage, after.stage),
        (TIER_CHANGED, before.tier, after.tier),
    ):
        if old != new:
            found.append(
                (type_, {"member": after.member, "event_id": event_id, "from": old, "to": new})
            )
    return found
