"""Assessments: a lead's completed assessment stored with its explanation and announced as a
`lead.assessed` outbox message, both in the transaction of the event that completed it (ingest
and replay call ``assessed`` and ``record``); a lead's result read back.

The lead is whoever the `assessment.*` events name as `member`: a lead who later becomes a
member under the same id keeps their answers and result."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from accolade.engine.assessments import AssessmentResult, score
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import Event
from accolade.engine.state import MemberState, compact_json
from accolade.errors import NotFound
from accolade.program.compiled import CompiledProgram
from accolade.service.console_users import check_email
from accolade.service.notify import LEAD_ASSESSED, Message
from accolade.service.programs import ActiveProgram, active
from accolade.store.repositories.assessments import NewResult
from accolade.store.unit_of_work import Store, UnitOfWork


@dataclass(frozen=True)
class Assessed:
    """An event that completed an assessment, with the lead's row and the result."""

    member_id: int
    event: Event
    version: int
    result: AssessmentResult


def assessed(
    compiled: CompiledProgram, entries: Sequence[Entry], state: MemberState
) -> AssessmentResult | None:
    """The result of the assessment these entries say was completed, from the lead's answers
    in ``state`` (the state after the event); None when the event completed none."""
    for entry in entries:
        if entry.kind is EntryKind.ASSESSMENT:
            key = entry.rule.partition(":")[2]
            answers = state.assessments[key]["answers"]
            return score(compiled.assessments[key], answers, state.member)
    return None


def record(
    uow: UnitOfWork,
    program_id: int,
    found: Sequence[Assessed],
    now: datetime,
    wanted: frozenset[str] = frozenset(),
) -> list[Message]:
    """Store the results, in the caller's transaction; the `lead.assessed` messages to append
    to the outbox, if a subscription wants them (``wanted``)."""
    uow.assessments.save_results(
        program_id,
        [
            NewResult(
                a.member_id,
                a.result.assessment,
                a.event.id,
                a.version,
                a.result.total,
                a.result.level,
                a.result.segment,
                compact_json(a.result.as_dict()),
                a.event.occurred_at,
            )
            for a in found
        ],
        now,
    )
    if not ("*" in wanted or LEAD_ASSESSED in wanted):
        return []
    stamp = now.isoformat().replace("+00:00", "Z")
    return [
        (
            LEAD_ASSESSED,
            compact_json({"type": LEAD_ASSESSED, "timestamp": stamp, "data": lead_assessed(a)}),
        )
        for a in found
    ]


def after_reversal(
    uow: UnitOfWork,
    compiled: CompiledProgram,
    program_id: int,
    member_pk: int,
    before: MemberState,
    after: MemberState,
) -> None:
    """Keep a lead's results true to their state once a reversal re-evaluated it: a
    completion taken back removes the result, changed answers score it again (the completing
    event stays the same)."""
    for key, was in before.assessments.items():
        if was.get("completed") is None:
            continue
        now = after.assessments.get(key) or {}
        if now.get("completed") is None:
            uow.assessments.delete_result(program_id, key, member_pk)
        elif now["answers"] != was["answers"] and key in compiled.assessments:
            result = score(compiled.assessments[key], now["answers"], after.member)
            uow.assessments.rescore_result(
                program_id,
                key,
                member_pk,
                result.total,
                result.level,
                result.segment,
                compact_json(result.as_dict()),
            )


def lead_assessed(found: Assessed) -> dict[str, object]:
    """A `lead.assessed` message's data: what a CRM or a sales tool acts on."""
    result = found.result
    return {
        "lead": result.lead,
        "assessment": result.assessment,
        "event_id": found.event.id,
        "completed_at": found.event.occurred_at.isoformat().replace("+00:00", "Z"),
        "scores": result.scores,
        "total": result.total,
        "level": result.level,
        "segment": result.segment,
        "next_content": result.next_content,
        "nurture_path": result.nurture_path,
        "sales_note": result.sales_note,
        "fields": result.fields,
    }


class AnswerView(BaseModel):
    question: str
    answer: str | list[str] | int | float
    scores: dict[str, int]


class ResultView(BaseModel):
    """A lead's completed assessment: what it scored, and which answer gave which score."""

    assessment: str
    lead: str
    event_id: str
    completed_at: datetime
    program_version: int
    scores: dict[str, int]
    total: int
    level: str
    segment: str
    next_content: str | None
    nurture_path: str | None
    sales_note: str | None
    fields: dict[str, Any]
    answers: list[AnswerView]


def result(store: Store, program_key: str, assessment: str, lead: str) -> ResultView:
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.assessments.result(program.id, assessment, lead)
        if row is None:
            _known(program, assessment)
            raise NotFound(
                f"lead '{lead}' has not completed assessment '{assessment}'", field="lead"
            )
        return _view(row)


def results_by_email(
    store: Store, program_key: str, assessment: str, email: str
) -> list[ResultView]:
    """The results of the leads known by ``email``: their id, or the ``email`` attribute an
    event (the hosted page's start) gave them. How a prospect who becomes a member under
    another id is found again; empty when there is none."""
    address = check_email(email)
    with store.read() as uow:
        program = active(uow, program_key)
        _known(program, assessment)
        return [
            _view(row) for row in uow.assessments.results_by_email(program.id, assessment, address)
        ]


def _known(program: ActiveProgram, assessment: str) -> None:
    if assessment not in program.compiled.assessments:
        raise NotFound(f"no assessment '{assessment}'", field="assessment")


def _view(row: Any) -> ResultView:
    body = json.loads(row.result)
    return ResultView(
        assessment=row.assessment,
        lead=row.lead,
        event_id=row.event_id,
        completed_at=row.completed_at,
        program_version=row.program_version,
        scores=body["scores"],
        total=row.total,
        level=row.level,
        segment=row.segment,
        next_content=body["next_content"],
        nurture_path=body["nurture_path"],
        sales_note=body["sales_note"],
        fields=body["fields"],
        answers=[AnswerView(**a) for a in body["answers"]],
    )
