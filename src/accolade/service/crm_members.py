"""A member's current values as a CRM connector writes them (`member_properties` of HubSpot,
`member_fields` of Salesforce): read from the store when a delivery is sent, never from the
message, so several messages of one member collapse into one upsert of what holds now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accolade.engine.money import to_major
from accolade.service.notify import (
    BADGE_EARNED,
    BADGE_REVOKED,
    EVENT_REVERSED,
    POINTS_AWARDED,
    REDEMPTION_UPDATED,
    REWARD_REDEEMED,
    STAGE_CHANGED,
    TIER_CHANGED,
)
from accolade.store.unit_of_work import UnitOfWork

# The outbox messages after which a member's values may have changed: points (earned, taken
# back, spent, refunded), badges, tier and stage. A referral's move reaches the member's record
# with the points or badge its stage event gives, or with their next message.
MEMBER_TRIGGERS = (
    POINTS_AWARDED,
    EVENT_REVERSED,
    BADGE_EARNED,
    BADGE_REVOKED,
    TIER_CHANGED,
    STAGE_CHANGED,
    REWARD_REDEEMED,
    REDEMPTION_UPDATED,
)
# Referral statuses whose deal value is still in play (not won, lost, disqualified or a
# duplicate).
_LIVE = ("submitted", "accepted", "qualified", "opportunity")


@dataclass(frozen=True)
class MemberValues:
    """What the store says of a member now."""

    member: str
    attributes: Mapping[str, Any]
    tier: str | None
    lifetime_points: int
    balance: int
    stage: str | None
    badges_count: int
    last_activity: datetime | None
    referral_pipeline: Mapping[str, int]  # currency -> minor units, live referrals
    referral_won: Mapping[str, int]  # currency -> minor units, won deals


def member_values(uow: UnitOfWork, program_id: int, member: str) -> MemberValues | None:
    """The member's current values, or None for a member the program does not know."""
    row = uow.members.member(program_id, member)
    if row is None:
        return None
    state = uow.members.member_state(row)
    pk = int(row.id)
    pipeline: dict[str, int] = {}
    won: dict[str, int] = {}
    for status, currency, minor in uow.referrals.member_deal_values(pk):
        sums = won if status == "won" else pipeline if status in _LIVE else None
        if sums is not None and currency is not None:
            sums[currency] = sums.get(currency, 0) + minor
    return MemberValues(
        member=member,
        attributes=dict(state.attributes),
        tier=state.tier,
        lifetime_points=state.lifetime,
        balance=state.balance,
        stage=state.stage,
        badges_count=len(state.badges),  # held awards: a repeating badge once per period
        last_activity=uow.members.last_activity(pk),
        referral_pipeline=pipeline,
        referral_won=won,
    )


def member_properties(mapping: Mapping[str, str], values: MemberValues) -> dict[str, str]:
    """The properties ``mapping`` (member value -> property) gives. Every mapped value is
    sent, an empty one as the empty string (which clears the property): a member who lost
    their tier has it cleared in the CRM too."""
    out: dict[str, str] = {}
    for value, prop in mapping.items():
        head, _, name = value.partition(".")
        if head == "attributes" and name:
            out[prop] = property_text(values.attributes.get(name))
        elif value == "last_activity":
            out[prop] = _timestamp(values.last_activity)
        elif value in ("referral_pipeline", "referral_won"):
            out[prop] = money_text(getattr(values, value))
        else:
            out[prop] = property_text(getattr(values, value))
    return out


def property_text(value: object) -> str:
    """HubSpot's text for a value: booleans as true/false, several choices joined by `;` (its
    multiple checkboxes), nothing as the empty string (which clears the property)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(property_text(v) for v in value)
    return str(value)


def money_text(sums: Mapping[str, int]) -> str:
    """Deal values in major units: `12500.00` in one currency (a CRM number property takes
    it), `12500.00 USD;300.00 EUR` in several, `0` with none."""
    if not sums:
        return "0"
    if len(sums) == 1:
        [(currency, minor)] = sums.items()
        return str(to_major(minor, currency))
    return ";".join(f"{to_major(m, c)} {c}" for c, m in sorted(sums.items()))


def member_email(values: MemberValues, attribute: str) -> str | None:
    """The member's email: their id when it is one, else the attribute the mapping names."""
    if "@" in values.member:
        return values.member.strip().lower()
    found = values.attributes.get(attribute)
    if isinstance(found, str) and "@" in found:
        return found.strip().lower()
    return None


def record_id(values: MemberValues, attribute: str | None) -> str | None:
    """The CRM's id of the member's record, from the attribute the mapping names."""
    if attribute is None:
        return None
    found = values.attributes.get(attribute)
    if isinstance(found, bool) or found is None:
        return None
    text = str(found).strip()
    return text or None


def _timestamp(when: datetime | None) -> str:
    return when.isoformat().replace("+00:00", "Z") if when is not None else ""
