"""An assessment's report: starts, completion, where leads stop, the spread of the scores, the
segments' sizes, how each segment converts to qualified, how far apart the segments convert
(segment usefulness), and how many sales notes were read (sales context adoption).

Leads' progress is read from their states (one pass over the leads who started it); results,
conversions and sales-note views from the results table and the event log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from statistics import median
from typing import Any

from pydantic import BaseModel

from accolade.errors import NotFound
from accolade.program.compiled import SALES_NOTE_VIEWED, CompiledAssessment
from accolade.service.programs import active
from accolade.store.unit_of_work import Store


class QuestionDropOff(BaseModel):
    question: str
    answered: int  # leads who answered it (in a section they did not skip)
    stopped_after: int  # leads who did not complete and answered nothing after it


class ScoreSpread(BaseModel):
    key: str  # a dimension, or "total"
    name: str
    min: int
    median: float
    max: int
    mean: float


class SegmentRow(BaseModel):
    key: str
    name: str
    leads: int
    share_percent: float  # of the completed
    qualified: int  # leads with a qualified event at or after their completion
    conversion_percent: float


class AssessmentReport(BaseModel):
    key: str
    name: str
    started: int
    completed: int
    completion_percent: float
    stopped_before_answering: int
    drop_off: list[QuestionDropOff]
    scores: list[ScoreSpread]  # of the completed; empty before the first completion
    levels: dict[str, int]
    segments: list[SegmentRow]
    qualified: int
    conversion_percent: float
    # (highest - lowest segment conversion) / overall conversion; None while none converted
    segment_usefulness: float | None
    sales_notes_viewed: int  # completed leads with a sales_note.viewed event since
    sales_context_adoption_percent: float  # of the completed leads whose segment has a note


def report(store: Store, program_key: str, assessment: str) -> AssessmentReport:
    with store.read() as uow:
        program = active(uow, program_key)
        found = program.compiled.assessments.get(assessment)
        if found is None:
            raise NotFound(f"no assessment '{assessment}'", field="assessment")
        definition = program.compiled.definition
        qualified_types = sorted(
            {
                program.compiled.actions[key].event_type
                for key in (definition.analytics.qualified if definition.analytics else [])
                if key in program.compiled.actions
            }
        )
        progress = [
            state["assessments"][assessment]
            for _, _, _, state in uow.members.member_progress(program.id, "assessments")
            if assessment in state.get("assessments", {})
        ]
        results = uow.assessments.results_of(program.id, assessment)
        qualified = uow.assessments.followed_by(program.id, assessment, qualified_types)
        viewed = uow.assessments.followed_by(program.id, assessment, [SALES_NOTE_VIEWED])
    return _report(found, progress, results, qualified, viewed)


def _report(
    assessment: CompiledAssessment,
    progress: list[dict[str, object]],
    results: Sequence[Any],
    qualified: dict[str, int],
    viewed: dict[str, int],
) -> AssessmentReport:
    definition = assessment.definition
    order = [q.key for q in definition.questions]
    answered = dict.fromkeys(order, 0)
    stopped = dict.fromkeys(order, 0)
    before_any = 0
    for lead in progress:
        answers = lead.get("answers")
        given = [q for q in order if isinstance(answers, dict) and q in answers]
        for question in given:
            answered[question] += 1
        if lead.get("completed") is None:
            if given:
                stopped[given[-1]] += 1
            else:
                before_any += 1
    completed = len(results)
    by_segment = {s.key: 0 for s in definition.segments}
    levels = {level.key: 0 for level in definition.levels}
    columns: dict[str, list[int]] = {d.key: [] for d in definition.dimensions}
    columns["total"] = []
    for segment, level, total, body in results:
        by_segment[segment] = by_segment.get(segment, 0) + 1
        levels[level] = levels.get(level, 0) + 1
        scores = json.loads(body)["scores"]
        for name in columns:
            columns[name].append(int(total) if name == "total" else int(scores.get(name, 0)))
    names = {d.key: d.name for d in definition.dimensions} | {"total": "Total"}
    spreads = [
        ScoreSpread(
            key=name,
            name=names[name],
            min=min(values),
            median=float(median(values)),
            max=max(values),
            mean=round(sum(values) / len(values), 2),
        )
        for name, values in columns.items()
        if values
    ]
    segments = [
        SegmentRow(
            key=s.key,
            name=s.name,
            leads=by_segment.get(s.key, 0),
            share_percent=_percent(by_segment.get(s.key, 0), completed),
            qualified=qualified.get(s.key, 0),
            conversion_percent=_percent(qualified.get(s.key, 0), by_segment.get(s.key, 0)),
        )
        for s in definition.segments
    ]
    all_qualified = sum(qualified.values())
    overall = _percent(all_qualified, completed)
    rates = [row.conversion_percent for row in segments if row.leads]
    usefulness = round((max(rates) - min(rates)) / overall, 2) if overall and rates else None
    with_notes = sum(by_segment.get(key, 0) for key in assessment.sales_notes)
    notes_viewed = sum(viewed.get(key, 0) for key in assessment.sales_notes)
    return AssessmentReport(
        key=definition.key,
        name=definition.name,
        started=len(progress),
        completed=completed,
        completion_percent=_percent(completed, len(progress)),
        stopped_before_answering=before_any,
        drop_off=[
            QuestionDropOff(question=q, answered=answered[q], stopped_after=stopped[q])
            for q in order
        ],
        scores=spreads,
        levels=levels,
        segments=segments,
        qualified=all_qualified,
        conversion_percent=overall,
        segment_usefulness=usefulness,
        sales_notes_viewed=notes_viewed,
        sales_context_adoption_percent=_percent(notes_viewed, with_notes),
    )


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
