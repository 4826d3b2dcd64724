"""Effects worth telling a host (webhooks), as outbox messages written in the effect's own
transaction: nothing is announced that did not commit, nothing committed goes untold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.state import MemberState, compact_json
from accolade.program.compile import CompiledQuest

POINTS_AWARDED = "points.awarded"
BADGE_EARNED = "badge.earned"
BADGE_REVOKED = "badge.revoked"
TIER_CHANGED = "tier.changed"
EVENT_REVERSED = "event.reversed"
QUEST_COMPLETED = "quest.completed"
QUEST_UNDONE = "quest.undone"
STAGE_CHANGED = "stage.changed"
REWARD_REDEEMED = "reward.redeemed"  # a member redeemed a catalogue item (service.rewards)
REDEMPTION_UPDATED = "redemption.updated"  # approved, fulfilled, rejected or cancelled
POINTS_EXPIRING = "points.expiring"  # points will expire soon (service.expiry)
EFFECT_TYPES = (
    POINTS_AWARDED,
    BADGE_EARNED,
    BADGE_REVOKED,
    TIER_CHANGED,
    EVENT_REVERSED,
    QUEST_COMPLETED,
    QUEST_UNDONE,
    STAGE_CHANGED,
    REWARD_REDEEMED,
    REDEMPTION_UPDATED,
    POINTS_EXPIRING,
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
    every = "*" in wanted
    member = after.member
    stamp = now.isoformat().replace("+00:00", "Z")
    out: list[Message] = []

    def tell(type_: str, data: dict[str, object]) -> None:
        if every or type_ in wanted:
            out.append((type_, compact_json({"type": type_, "timestamp": stamp, "data": data})))

    points = sum(e.points for e in entries)
    if reversal_reason is not None:
        tell(
            EVENT_REVERSED,
            {
                "member": member,
                "event_id": event_id,
                "reason": reversal_reason,
                "points": points,
                "balance": after.balance,
                "lifetime": after.lifetime,
            },
        )
    elif points > 0:
        tell(
            POINTS_AWARDED,
            {
                "member": member,
                "event_id": event_id,
                "points": points,
                "balance": after.balance,
                "lifetime": after.lifetime,
            },
        )
    for e in entries:
        if e.kind is EntryKind.BADGE or e.kind is EntryKind.BADGE_REVOKED:
            tell(
                BADGE_EARNED if e.kind is EntryKind.BADGE else BADGE_REVOKED,
                {
                    "member": member,
                    "event_id": e.event_id,
                    "badge": e.rule.removeprefix("badge:"),
                    "period": e.period,
                },
            )
    if after.quests_done is not before.quests_done:
        known = quests or {}
        done, had = after.quests_done.keys(), before.quests_done.keys()
        for type_, keys in ((QUEST_COMPLETED, done - had), (QUEST_UNDONE, had - done)):
            for key in sorted(keys):
                quest = known.get(key)
                granted = dict(quest.entitlements) if quest else {}
                tell(
                    type_,
                    {"member": member, "event_id": event_id, "quest": key, "entitlements": granted},
                )
    if before.stage != after.stage:
        tell(
            STAGE_CHANGED,
            {"member": member, "event_id": event_id, "from": before.stage, "to": after.stage},
        )
    if before.tier != after.tier:
        tell(
            TIER_CHANGED,
            {"member": member, "event_id": event_id, "from": before.tier, "to": after.tier},
        )
    return out
