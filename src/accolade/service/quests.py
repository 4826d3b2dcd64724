"""Quests as a program owner sees them: each quest's funnel, where members drop off."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from accolade.errors import NotFound
from accolade.program.compiled import CompiledQuest
from accolade.service.programs import active
from accolade.store.unit_of_work import Store


@dataclass(frozen=True)
class StepFunnel:
    key: str
    name: str
    completed: int
    # ordered quest: members who did the step before and not this one (0 for the first step);
    # any order: members who started the quest and have not done this step
    drop_off: int
    drop_off_percent: float
    # ordered: median time from the step before (the first step: none); any order: from the start
    median_seconds: int | None


@dataclass(frozen=True)
class QuestFunnel:
    key: str
    name: str
    description: str | None
    ordered: bool
    started: int  # members with at least one step done
    completed: int
    completion_percent: float  # of those who started
    steps: list[StepFunnel]


def funnels(store: Store, program_key: str) -> list[QuestFunnel]:
    """Every quest of the active program with its funnel, from one pass over the members."""
    with store.read() as uow:
        program = active(uow, program_key)
        quests = program.compiled.quests
        times: dict[str, list[dict[str, int]]] = {key: [] for key in quests}
        completed = dict.fromkeys(quests, 0)
        for _, _, _, progress in uow.members.member_progress(program.id, "quest_steps"):
            steps, done = progress.get("quest_steps", {}), progress.get("quests_done", {})
            for key, step_times in steps.items():
                if key in times and step_times:
                    times[key].append(step_times)
            for key in done:
                if key in completed:
                    completed[key] += 1
    return [_funnel(quest, times[key], completed[key]) for key, quest in quests.items()]


def funnel(store: Store, program_key: str, quest: str) -> QuestFunnel:
    found = next((f for f in funnels(store, program_key) if f.key == quest), None)
    if found is None:
        raise NotFound(f"no quest '{quest}' in program '{program_key}'", field="quest")
    return found


def _funnel(quest: CompiledQuest, members: list[dict[str, int]], completed: int) -> QuestFunnel:
    started = len(members)
    steps: list[StepFunnel] = []
    previous: str | None = None
    for step in quest.steps:
        did = [m for m in members if step.key in m]
        if quest.ordered:
            before = started if previous is None else sum(1 for m in members if previous in m)
            waits = (  # steps follow arrival: a late-dated step may predate the one before
                [max(0, m[step.key] - m[previous]) for m in did if previous in m]
                if previous is not None
                else []
            )
        else:
            before = started
            waits = [m[step.key] - min(m.values()) for m in did]
        lost = before - len(did)
        steps.append(
            StepFunnel(
                key=step.key,
                name=step.name,
                completed=len(did),
                drop_off=lost,
                drop_off_percent=_percent(lost, before),
                median_seconds=int(median(waits)) if waits else None,
            )
        )
        previous = step.key
    return QuestFunnel(
        key=quest.key,
        name=quest.name,
        description=quest.description,
        ordered=quest.ordered,
        started=started,
        completed=completed,
        completion_percent=_percent(completed, started),
        steps=steps,
    )


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
