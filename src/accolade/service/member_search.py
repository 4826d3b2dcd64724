"""Finding members: by id or name, an attribute's value, tier and lifecycle stage, a page at a
time in the order of their ids (the console's members page)."""

from __future__ import annotations

from dataclasses import dataclass

from accolade.errors import InvalidInput
from accolade.service.programs import active
from accolade.store.repositories.members import state_of
from accolade.store.unit_of_work import Store

MAX_PAGE = 200


@dataclass(frozen=True)
class FoundMember:
    member: str
    name: str | None  # the member's ``name`` attribute, when they have one
    tier: str | None
    stage: str | None
    balance: int
    lifetime: int


@dataclass(frozen=True)
class MemberSearch:
    members: list[FoundMember]
    next_after: str | None  # pass as ``after`` for the next page; None: the last page


def parse_attribute(text: str) -> tuple[str, str] | None:
    """``industry=software`` to (name, value); empty text: None."""
    text = text.strip()
    if not text:
        return None
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise InvalidInput("write it as name=value, e.g. industry=software", field="attribute")
    return name.strip(), value.strip()


def search(
    store: Store,
    program_key: str,
    *,
    text: str = "",
    attribute: tuple[str, str] | None = None,
    tier: str = "",
    stage: str = "",
    after: str | None = None,
    limit: int = 50,
) -> MemberSearch:
    """Members of ``program_key`` whose id or name contains ``text`` (any case), with the
    ``attribute`` (name, value), ``tier`` and ``stage`` given; empty: any."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"must be between 1 and {MAX_PAGE}", field="limit")
    with store.read() as uow:
        program = active(uow, program_key)
        compiled = program.compiled
        if tier and tier not in {t.key for t in compiled.tiers}:
            known = ", ".join(t.key for t in compiled.tiers) or "none"
            raise InvalidInput(f"unknown tier '{tier}' (known: {known})", field="tier")
        rows = uow.members.search_members(
            program.id,
            text=text.strip() or None,
            attribute=attribute,
            tier=tier or None,
            stage=stage.strip() or None,
            after=after,
            limit=limit + 1,
        )
    found = []
    for row in rows[:limit]:
        state = state_of(row)
        name = state.attributes.get("name")
        found.append(
            FoundMember(
                row.external_id,
                name if isinstance(name, str) else None,
                row.tier,
                state.stage,
                int(row.balance),
                int(row.lifetime),
            )
        )
    return MemberSearch(found, found[-1].member if len(rows) > limit else None)
