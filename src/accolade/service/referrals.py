"""Referrals: a member names a prospect; the CRM moves the referral through its stages.

Stages: ``submitted`` -> ``accepted`` -> ``qualified`` -> ``opportunity`` -> ``won``, or ``lost``
or ``disqualified``. Reaching a stage sends the referring member a ``referral.<stage>`` event
(id ``referral:<referral id>:<stage>``) through the normal ingest path, in the same
transaction: the program pays for it with an action on that event (``event: referral.won,
points_from: {property: amount, per: 100}`` is 1% of the deal), and badges, challenges, boards
and replay treat it like any event. A stage skipped on the way (a deal won straight from
``submitted``) sends its event too, at the same time: a won deal was qualified.

Clawback, by reversal of those events (each reversal entry says why):
- ``disqualified`` (from any stage, a won one included): every event the referral sent;
- ``lost`` after ``won`` (the deal fell through): the ``won`` event; ``lost`` before it takes
  nothing back: the stages reached were real.

Deal values are money: an integer of the currency's minor units in the table, as ISO 4217 has
them (engine/money.py: JPY 0 places, USD 2, KWD 3); an amount with more places than its currency
has is refused, not rounded. The events carry the amount in major units.

Duplicates: a prospect is known by its registrable domain (``acme.com``, from ``domain`` or the
contact's e-mail: ``jo@sales.acme.com`` is ``acme.com``), else by its name normalised
(``Acme Inc.`` is ``acme``; engine/prospects.py). The first valid referral of a prospect (not lost, not
disqualified) is the one that counts; a later one by anybody is stored as ``duplicate`` of it,
sends nothing and cannot move. A prospect whose referrals were all lost or disqualified can be
referred again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from accolade.engine.money import check_currency, parse_amount, to_major, to_minor
from accolade.engine.prospects import prospect_key
from accolade.engine.referrals import (
    STAGES,
    STATUSES,
    check_move,
    require_what_it_needs,
    stages_taken_back,
    stages_to_send,
    status_after,
)
from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.service import Clock, check_page, once_more_on_conflict, public_id, system_clock
from accolade.service.ingest import apply_own_events
from accolade.service.members import member_id
from accolade.service.programs import ActiveProgram, active
from accolade.service.reverse import reverse_in
from accolade.store.unit_of_work import Store, UnitOfWork

MAX_ID = 150  # the event ids built from it stay within 200 characters
# the id that names the route beside GET /v1/referrals/{referral_id} (api/referrals.py)
RESERVED_ID = "pipeline"
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")


@dataclass(frozen=True)
class Referral:
    referral_id: str
    member: str
    team: str | None
    company: str | None
    prospect: str
    contact_name: str | None
    contact_email: str | None
    status: str
    duplicate_of: str | None
    amount: Decimal | None  # the deal's value in major units, the currency's places (12500.00)
    currency: str | None
    reason: str | None
    submitted_at: datetime
    updated_at: datetime
    # this call: the events it sent (their ids) and the ones it reversed
    sent: list[str] = field(default_factory=list)
    reversed: list[str] = field(default_factory=list)
    duplicate: bool = False  # the same referral id submitted before: its first result


@dataclass(frozen=True)
class ReferralPage:
    items: list[Referral]
    next_before: int | None


@dataclass(frozen=True)
class PipelineRow:
    key: str | None  # the member, team or company (None: referrals without one)
    referrals: int  # valid ones and closed ones; duplicates are not counted
    qualified: int  # reached qualified or beyond (and still there)
    open: int  # open opportunities
    won: int
    pipeline: dict[str, Decimal]  # currency -> value of the open opportunities
    won_amount: dict[str, Decimal]  # currency -> value of the won deals


# submitting ---------------------------------------------------------------------------------


def submit(
    store: Store,
    program_key: str,
    member: str,
    prospect: str,
    *,
    domain: str | None = None,
    contact_name: str | None = None,
    contact_email: str | None = None,
    referral_id: str | None = None,
    clock: Clock = system_clock,
) -> Referral:
    """A member refers a prospect. The same ``referral_id`` again returns the first result."""
    rid = public_id(referral_id, "referral_id", "ref", MAX_ID)
    if rid == RESERVED_ID:
        raise InvalidInput(
            f"'{rid}' names GET /v1/referrals/{rid}, so such a referral could not be read; "
            "choose another id",
            field="referral_id",
        )
    name = _text(prospect, "prospect", required=True)
    assert name is not None
    contact_name = _text(contact_name, "contact_name")
    email = _email(contact_email)
    key = prospect_key(name, domain, email)

    def run() -> Referral:
        with store.transaction() as uow:
            program = active(uow, program_key)
            earlier = uow.referrals.referral(program.id, rid)
            if earlier is not None:
                if earlier.member != member or earlier.prospect != name:
                    raise Conflict(
                        f"referral '{rid}' was submitted before by {earlier.member} "
                        f"({earlier.prospect})",
                        field="referral_id",
                    )
                return _view(earlier, duplicate=True)
            locked = uow.members.lock_members(program.id, [member]).get(member)
            if locked is None:
                raise NotFound(f"no member '{member}' in program '{program_key}'", field="member")
            now = clock()
            first = uow.referrals.first_valid(program.id, key)
            uow.referrals.insert_referral(
                {
                    "program_id": program.id,
                    "referral_id": rid,
                    "member_id": locked.id,
                    "team": locked.state.team,
                    "company": locked.state.company,
                    "prospect": name,
                    "prospect_key": key,
                    "contact_name": contact_name,
                    "contact_email": email,
                    "status": "duplicate" if first is not None else "submitted",
                    "duplicate_of": first.referral_id if first is not None else None,
                    "submitted_at": now,
                    "updated_at": now,
                }
            )
            row = uow.referrals.referral(program.id, rid)
            sent = [] if first is not None else _send(uow, program, row, ["submitted"], now, now)
            return _view(uow.referrals.referral(program.id, rid), sent=sent)

    return once_more_on_conflict(run)


# moving -------------------------------------------------------------------------------------


def move(
    store: Store,
    program_key: str,
    referral_id: str,
    to: str,
    *,
    amount: Decimal | float | str | None = None,
    currency: str | None = None,
    reason: str | None = None,
    occurred_at: datetime | None = None,
    clock: Clock = system_clock,
) -> Referral:
    """Move a referral (``accept``, ``qualify``, ``opportunity``, ``win``, ``lose``,
    ``disqualify``), as the CRM says. ``amount`` (with ``currency``) is the deal's value:
    expected at ``opportunity``, required at ``win``. Moving to the status it already has
    changes nothing."""
    target = status_after(to)
    value, currency, minor = _money(amount, currency)
    reason = _text(reason, "reason")
    require_what_it_needs(to, has_amount=value is not None, has_reason=reason is not None)
    with store.transaction() as uow:
        program = active(uow, program_key)
        row = uow.referrals.referral(program.id, referral_id, for_update=True)
        if row is None:
            raise NotFound(f"no referral '{referral_id}'", field="referral_id")
        # the member's lock first, as every writer takes it, then the row again
        uow.members.lock_members(program.id, [row.member])
        row = uow.referrals.referral(program.id, referral_id)
        if row.status == target:
            return _view(row, duplicate=True)
        check_move(row.referral_id, row.status, row.duplicate_of, target)
        now = clock()
        at = occurred_at or now
        values: dict[str, Any] = {"status": target, "updated_at": now}
        if minor is not None:
            values["amount"] = minor
            values["currency"] = currency
        if reason is not None:
            values["reason"] = reason
        uow.referrals.update_referral(int(row.id), **values)
        row = uow.referrals.referral(program.id, referral_id)
        stages = stages_to_send(_last_stage(uow, program.id, referral_id), target)
        sent = _send(uow, program, row, stages, at, now)
        why = f"referral {referral_id} {target}: {reason}"
        taken_back = stages_taken_back(target)
        reversed_ = _claw_back(uow, program, referral_id, taken_back, why, now)
        return _view(
            uow.referrals.referral(program.id, referral_id), sent=sent, reversed_=reversed_
        )


def _last_stage(uow: UnitOfWork, program_id: int, referral_id: str) -> str:
    """The furthest stage whose event was sent (the events are the record of it)."""
    ids = [_event_id(referral_id, s) for s in STAGES]
    logged = uow.log.logged_events(program_id, "event", ids)
    done = [s for s in STAGES if _event_id(referral_id, s) in logged]
    return done[-1] if done else "submitted"


def _event_id(referral_id: str, stage: str) -> str:
    return f"referral:{referral_id}:{stage}"


def _send(
    uow: UnitOfWork,
    program: ActiveProgram,
    row: Any,
    stages: list[str],
    at: datetime,
    now: datetime,
) -> list[str]:
    """The referring member's ``referral.<stage>`` events, through ingest, in this transaction."""
    if not stages:
        return []
    properties: dict[str, Any] = {"referral_id": row.referral_id, "prospect": row.prospect}
    if row.amount is not None:
        properties["amount"] = float(to_major(int(row.amount), row.currency))
        properties["currency"] = row.currency
    events = []
    for stage in stages:
        event: dict[str, Any] = {
            "id": _event_id(row.referral_id, stage),
            "type": f"referral.{stage}",
            "member": row.member,
            "occurred_at": at.isoformat(),
            "properties": properties,
        }
        # no team or company on it: an event naming them would move the member back to the
        # ones they had when they referred (the referral row keeps those for the pipeline)
        events.append(event)
    return apply_own_events(uow, program, events, now)


def _claw_back(
    uow: UnitOfWork,
    program: ActiveProgram,
    referral_id: str,
    stages: tuple[str, ...],
    why: str,
    now: datetime,
) -> list[str]:
    if not stages:
        return []
    ids = [_event_id(referral_id, s) for s in stages]
    logged = uow.log.logged_events(program.id, "event", ids)
    taken: list[str] = []
    for event_id in ids:
        found = logged.get(event_id)
        if found is None or uow.log.event_row(program.id, "reversal", event_id) is not None:
            continue
        reverse_in(uow, program, event_id, why, now)
        taken.append(event_id)
    return taken


# reads --------------------------------------------------------------------------------------


def referral(store: Store, program_key: str, referral_id: str) -> Referral:
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.referrals.referral(program.id, referral_id)
        if row is None:
            raise NotFound(f"no referral '{referral_id}'", field="referral_id")
        return _view(row)


def referrals(
    store: Store,
    program_key: str,
    *,
    member: str | None = None,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> ReferralPage:
    """Newest first: a member's referrals, or the program's (``status`` filters)."""
    check_page(status, STATUSES, limit)
    with store.read() as uow:
        program = active(uow, program_key)
        member_pk = member_id(uow, program, member)
        rows = uow.referrals.referrals_page(
            program.id, member_id=member_pk, status=status, before=before, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return ReferralPage([_view(r) for r in rows], int(rows[-1].id) if more else None)


def referral_points(store: Store, program_key: str, member: str) -> dict[str, int]:
    """The points ``member`` holds from each of their referrals (the events its stages sent,
    net of clawbacks), by referral id; a referral that earned nothing is left out."""
    with store.read() as uow:
        program = active(uow, program_key)
        member_pk = member_id(uow, program, member)
        assert member_pk is not None
        by_event = uow.ledger.points_by_event(member_pk, "referral:")
    points: dict[str, int] = {}
    for event_id, earned in by_event.items():
        referral_id = event_id.removeprefix("referral:").rpartition(":")[0]
        points[referral_id] = points.get(referral_id, 0) + earned
    return {r: p for r, p in points.items() if p}


def pipeline(store: Store, program_key: str, by: str = "member") -> list[PipelineRow]:
    """Referrals and the pipeline they brought, per referring member, team or company (as they
    were when the referral was submitted), biggest won value first."""
    if by not in ("member", "team", "company"):
        raise InvalidInput(f"unknown '{by}'; one of member, team, company", field="by")
    with store.read() as uow:
        program = active(uow, program_key)
        rows = uow.referrals.pipeline(program.id, by)
    merged: dict[str | None, PipelineRow] = {}
    for r in rows:
        row = merged.setdefault(r.key, PipelineRow(r.key, 0, 0, 0, 0, {}, {}))
        merged[r.key] = PipelineRow(
            r.key,
            row.referrals + int(r.referrals),
            row.qualified + int(r.qualified),
            row.open + int(r.open),
            row.won + int(r.won),
            _add(row.pipeline, r.currency, int(r.pipeline or 0)),
            _add(row.won_amount, r.currency, int(r.won_amount or 0)),
        )
    return sorted(
        merged.values(), key=lambda p: (-sum(p.won_amount.values()), -p.referrals, p.key or "")
    )


def _add(sums: dict[str, Decimal], currency: str | None, minor: int) -> dict[str, Decimal]:
    if currency is None or not minor:
        return sums
    out = dict(sums)
    out[currency] = out.get(currency, to_major(0, currency)) + to_major(minor, currency)
    return out


# input --------------------------------------------------------------------------------------


def _text(value: str | None, name: str, *, required: bool = False) -> str | None:
    cleaned = value.strip() if value is not None else None
    if not cleaned:
        if required:
            raise InvalidInput("must not be empty", field=name)
        return None
    if len(cleaned) > 200:
        raise InvalidInput("must be at most 200 characters", field=name)
    return cleaned


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip().lower()
    if len(cleaned) > 320 or not _EMAIL.match(cleaned):
        raise InvalidInput(f"'{value}' is not an e-mail address", field="contact_email")
    return cleaned


def _money(
    amount: Decimal | float | str | None, currency: str | None
) -> tuple[Decimal | None, str | None, int | None]:
    """The amount in major units, its currency and the amount in the currency's minor units."""
    if amount is None:
        if currency is not None:
            raise InvalidInput("a currency goes with an amount", field="currency")
        return None, None, None
    value = parse_amount(amount)
    if currency is None:
        raise InvalidInput("an amount needs its ISO 4217 currency, such as USD", field="currency")
    currency = check_currency(currency)
    return value, currency, to_minor(value, currency)


def _view(
    row: Any,
    *,
    sent: list[str] | None = None,
    reversed_: list[str] | None = None,
    duplicate: bool = False,
) -> Referral:
    return Referral(
        referral_id=row.referral_id,
        member=row.member,
        team=row.team,
        company=row.company,
        prospect=row.prospect,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        status=row.status,
        duplicate_of=row.duplicate_of,
        amount=to_major(int(row.amount), row.currency) if row.amount is not None else None,
        currency=row.currency,
        reason=row.reason,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        sent=sent or [],
        reversed=reversed_ or [],
        duplicate=duplicate,
    )
