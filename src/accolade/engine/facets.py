"""The facets of a member that reference matching filters on: some attributes (as text), the
tier (a member without one is in the lowest) and the lifecycle stage. Pure: the store keeps
them in an index (store/repositories/facets.py), services compare requests with them."""

from __future__ import annotations

import json
from collections.abc import Sequence

from accolade.engine.state import MemberState
from accolade.engine.tiers import entry_tier
from accolade.program.compiled import CompiledProgram

TIER, STAGE = "@tier", "@stage"
MAX_VALUE = 200


def facet_text(value: object) -> str | None:
    """An attribute value as the index holds it (and a request's value, to compare): text as
    it is, numbers and booleans as JSON (``1000``, ``true``); None (and empty text): no row."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value[:MAX_VALUE]
    return json.dumps(value)[:MAX_VALUE]


def facets_of(
    state: MemberState | None, names: Sequence[str], default_tier: str | None = None
) -> dict[str, str]:
    """What the index holds for a member: ``names`` of their attributes, their tier (a member
    without one is in ``default_tier``, the lowest) and their stage."""
    if state is None:
        return {}
    out: dict[str, str] = {}
    attrs = state.attributes
    for name in names:
        text = facet_text(attrs.get(name))
        if text is not None:
            out[name] = text
    tier = state.tier or default_tier
    if tier is not None:
        out[TIER] = tier
    if state.stage is not None:
        out[STAGE] = state.stage
    return out


def facet_names(program: CompiledProgram | None) -> tuple[tuple[str, ...], str | None]:
    """What the facet index holds for ``program``: attribute names (none without reference
    requests), and the tier of members without one."""
    if program is None or program.references is None:
        return (), None
    return program.references.facets, entry_tier(program)
