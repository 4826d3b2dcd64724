"""Entitlements: what a member's completed quests, won challenges and current lifecycle stage
entitle them to, for the host product to apply (a feature unlock, a commission bonus)."""

from __future__ import annotations

from typing import Any

from accolade.engine.challenges import won
from accolade.engine.state import MemberState
from accolade.program.compiled import CompiledProgram


def entitlements(program: CompiledProgram, state: MemberState) -> dict[str, Any]:
    """Every grant in force; when two give the same name, the later one wins."""
    grants: list[tuple[int, str, dict[str, Any]]] = []
    for key, ts in state.quests_done.items():
        quest = program.quests.get(key)
        if quest is not None:
            grants.append((ts, f"quest:{key}", dict(quest.entitlements)))
    for ts, challenge in won(program, state):
        grants.append((ts, challenge.rule, dict(challenge.entitlements)))
    stage = next((s for s in program.stages if s.key == state.stage), None)
    if stage is not None:  # a stage's entitlements hold while the member is in it
        entered = state.stages_entered.get(stage.key, 0)
        grants.append((entered, f"stage:{stage.key}", dict(stage.entitlements)))
    out: dict[str, Any] = {}
    for _, _, granted in sorted(grants, key=lambda g: (g[0], g[1])):
        out.update(granted)
    return out
