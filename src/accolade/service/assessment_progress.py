"""A lead taking an assessment one section at a time (the hosted page, web/assess): where they
are (the sections their answers leave in, the first one still to answer, what they answered),
a section's form answers checked and sent as `assessment.*` events through ingest, and what a
lead sees once done (their diagnosis: never the sales note or the CRM fields).

Every answer goes through the log like an API client's: ingest_batch, with event ids derived
from the lead and the form's ``attempt`` (a token drawn with the page), so a double submit
sends the same ids again and changes nothing."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accolade.engine.assessments import (
    Answer,
    answer_to,
    highest_scores,
    skipped_sections,
    unanswered,
)
from accolade.engine.effects import Status
from accolade.errors import AccoladeError, Conflict, FieldError, InvalidInput, NotFound
from accolade.program.assessments import CHOICE_KINDS, Question
from accolade.program.compiled import (
    ASSESSMENT_ANSWERED,
    ASSESSMENT_COMPLETED,
    ASSESSMENT_EVENTS,
    ASSESSMENT_STARTED,
    CompiledAssessment,
)
from accolade.service import Clock, system_clock
from accolade.service import assessments as assessments_service
from accolade.service.console_users import check_email
from accolade.service.ingest import ingest_batch
from accolade.service.programs import active
from accolade.store.unit_of_work import Store

# A question without a section, in an assessment with sections (or any question of one
# without): shown in a first section of their own, as engine.assessments reads them first.
LEAD_SECTION = ""
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


class InvalidAnswers(InvalidInput):
    """A section's answers that cannot be taken: every problem, each naming its question."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__(errors[0].message, errors[0].field)


@dataclass(frozen=True)
class Section:
    key: str
    name: str
    description: str | None
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Progress:
    """Where a lead stands in an assessment."""

    program_key: str
    assessment: CompiledAssessment
    lead: str
    started: bool
    completed: bool
    answers: Mapping[str, Answer]
    sections: tuple[Section, ...]  # the sections the answers leave in, in order
    current: int  # index in ``sections`` of the first one with a required question unanswered
    points: int | None  # the lead's points, when the program pays for assessment events

    def index_of(self, section: str) -> int:
        """The position of ``section`` among the shown ones; NotFound when it is skipped."""
        for i, found in enumerate(self.sections):
            if found.key == section:
                return i
        raise NotFound(f"no section '{section}' to answer here", field="section")


def find_program(store: Store, assessment: str, program: str | None = None) -> str:
    """The key of the program whose active version has ``assessment`` (only ``program`` when
    given); NotFound when none has, Conflict when several do."""
    with store.read() as uow:
        keys = [program] if program else uow.programs.program_keys()
        found = []
        for key in keys:
            try:
                if assessment in active(uow, key).compiled.assessments:
                    found.append(key)
            except NotFound:
                continue  # no active version yet
    if not found:
        raise NotFound(f"no assessment '{assessment}'", field="assessment")
    if len(found) > 1:
        raise Conflict(
            f"assessment '{assessment}' is in several programs ({', '.join(found)}): "
            "name the one to serve with ACCOLADE_PROGRAM",
            field="assessment",
        )
    return found[0]


def progress(store: Store, program_key: str, assessment: str, lead: str) -> Progress:
    """The lead's progress (an unknown lead: not started)."""
    with store.read() as uow:
        program = active(uow, program_key)
        compiled = program.compiled.assessments.get(assessment)
        if compiled is None:
            raise NotFound(f"no assessment '{assessment}'", field="assessment")
        row = uow.members.member(program.id, lead)
        state = uow.members.member_state(row) if row is not None else None
        pays = any(program.compiled.actions_by_event.get(t) for t in ASSESSMENT_EVENTS)
    mine = state.assessments.get(assessment) if state is not None else None
    answers: dict[str, Answer] = dict(mine["answers"]) if mine else {}
    shown = shown_sections(compiled, answers)
    missing = set(unanswered(compiled, answers))
    current = next(
        (i for i, s in enumerate(shown) if any(q.key in missing for q in s.questions)),
        len(shown) - 1,
    )
    return Progress(
        program_key,
        compiled,
        lead,
        started=mine is not None,
        completed=bool(mine and mine.get("completed") is not None),
        answers=answers,
        sections=tuple(shown),
        current=current,
        points=(state.lifetime if state is not None else 0) if pays else None,
    )


def shown_sections(assessment: CompiledAssessment, answers: Mapping[str, Answer]) -> list[Section]:
    """The sections a lead answers, in order: those the answers do not skip (a section with
    no question is left out)."""
    definition = assessment.definition
    skipped = skipped_sections(assessment, answers)
    loose = tuple(q for q in definition.questions if q.section is None)
    found = [Section(LEAD_SECTION, definition.name, definition.description, loose)] if loose else []
    for section in definition.sections:
        if section.key in skipped:
            continue
        questions = tuple(q for q in definition.questions if q.section == section.key)
        if questions:
            found.append(Section(section.key, section.name, section.description, questions))
    return found


def event_id(program_key: str, lead: str, assessment: str, *parts: str) -> str:
    """An event id the page sends under: the same lead, assessment and parts give the same id
    (a double submit is a duplicate), and no lead can name another's."""
    text = "\0".join((program_key, lead, assessment, *parts))
    return f"assess_{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def start(
    store: Store,
    program_key: str,
    assessment: str,
    lead: str,
    email: str = "",
    *,
    clock: Clock = system_clock,
) -> Progress:
    """The lead starts (once: starting again changes nothing). ``email``, when given, is the
    lead's `email` attribute, set by the `assessment.started` event: the log links the lead to
    it, and the CRM connectors upsert the contact by it."""
    properties: dict[str, Any] = {"assessment": assessment}
    attributes: dict[str, Any] = {}
    if email.strip():
        try:
            attributes["email"] = check_email(email)
        except InvalidInput as exc:
            raise InvalidAnswers([FieldError("email", exc.message)]) from None
    now = progress(store, program_key, assessment, lead)
    if now.completed:
        raise _completed(assessment)
    if not now.started:
        _send(
            store,
            program_key,
            [
                {
                    **_event(program_key, lead, ASSESSMENT_STARTED, properties, clock, "started"),
                    **({"attributes": attributes} if attributes else {}),
                }
            ],
            clock,
        )
    return progress(store, program_key, assessment, lead)


def answer_section(
    store: Store,
    program_key: str,
    assessment: str,
    lead: str,
    section: str,
    given: Mapping[str, Sequence[str]],
    attempt: str,
    *,
    clock: Clock = system_clock,
) -> Progress:
    """Take a section's form answers (question key -> the values the form sent): the changed
    ones are sent as `assessment.answered` events, and `assessment.completed` with them when
    nothing required is left unanswered after the last section. InvalidAnswers naming every
    bad question, Conflict when the lead has completed already; nothing is stored then."""
    now = progress(store, program_key, assessment, lead)
    if now.completed:
        raise _completed(assessment)
    shown = now.sections[now.index_of(section)]
    answers: dict[str, Answer] = dict(now.answers)
    changed: list[tuple[str, Answer]] = []
    errors: list[FieldError] = []
    for question in shown.questions:
        try:
            value = read_answer(question, given.get(question.key, ()))
        except AccoladeError as exc:
            errors.append(FieldError(question.key, exc.message))
            continue
        if value is None:
            # an answer cannot be taken back (no event does that): an optional question left
            # empty keeps what it had; a required one must be answered on its page
            if question.required:
                errors.append(FieldError(question.key, "an answer is required"))
            continue
        if answers.get(question.key) != value:
            answers[question.key] = value
            changed.append((question.key, value))
    if errors:
        raise InvalidAnswers(errors)
    events = [
        _event(
            program_key,
            lead,
            ASSESSMENT_ANSWERED,
            {"assessment": assessment, "question": key, "answer": value},
            clock,
            "answered",
            attempt,
            key,
            json.dumps(value),
        )
        for key, value in changed
    ]
    after = shown_sections(now.assessment, answers)
    last = bool(after) and after[-1].key == section
    if last and not unanswered(now.assessment, answers):
        events.append(
            _event(
                program_key,
                lead,
                ASSESSMENT_COMPLETED,
                {"assessment": assessment},
                clock,
                "completed",
                attempt,
            )
        )
    if events:
        _send(store, program_key, events, clock)
    return progress(store, program_key, assessment, lead)


def read_answer(question: Question, values: Sequence[str]) -> Answer | None:
    """A form's values for ``question`` as its answer (None: not answered); the engine's
    InvalidEvent, or InvalidInput, saying what is wrong otherwise."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None
    if question.kind == "multi":
        return answer_to(question, values)
    if len(values) > 1:
        raise InvalidInput("give one answer", field=question.key)
    if question.kind in CHOICE_KINDS:
        return answer_to(question, values[0])
    text = values[0]
    if _GROUPED.fullmatch(text):  # 1,000 (thousands grouped); 2,5 is refused, not read as 25
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"'{values[0]}' is not a number", field=question.key) from None
    if not math.isfinite(number):
        raise InvalidInput(f"'{values[0]}' is not a number", field=question.key)
    if question.kind == "scale" and not number.is_integer():
        raise InvalidInput("give a whole number", field=question.key)
    return answer_to(question, int(number) if number.is_integer() else number)


@dataclass(frozen=True)
class DimensionScore:
    key: str
    name: str
    score: int
    most: int  # the highest score the questions can give it (a bound: branching ignored)

    @property
    def percent(self) -> int:
        return max(0, min(100, self.score * 100 // self.most)) if self.most > 0 else 0

    @property
    def band(self) -> str:
        """``low``, ``medium`` or ``high``: the score against the most it could be, in thirds."""
        return "low" if self.percent < 34 else "medium" if self.percent < 67 else "high"


@dataclass(frozen=True)
class Diagnosis:
    """What a lead sees once done: their scores and what they mean, their readiness level,
    and the next step for their segment. Not the sales note, not the CRM fields."""

    assessment: str
    name: str
    total: int
    most: int
    dimensions: list[DimensionScore]
    level: str
    level_name: str
    level_description: str | None
    levels: list[tuple[str, int]] = field(default_factory=list)  # (name, from total), in order
    segment_name: str = ""
    next_content: str | None = None
    points: int | None = None  # only when the program pays for assessment events


def diagnosis(store: Store, now: Progress) -> Diagnosis:
    """The completed lead's diagnosis, from their stored result."""
    stored = assessments_service.result(store, now.program_key, now.assessment.key, now.lead)
    definition = now.assessment.definition
    ceilings = highest_scores(now.assessment)
    level = next(lv for lv in definition.levels if lv.key == stored.level)
    segment = next(s for s in definition.segments if s.key == stored.segment)
    return Diagnosis(
        assessment=definition.key,
        name=definition.name,
        total=stored.total,
        most=sum(ceilings.values()),
        dimensions=[
            DimensionScore(d.key, d.name, stored.scores.get(d.key, 0), ceilings[d.key])
            for d in definition.dimensions
        ],
        level=level.key,
        level_name=level.name,
        level_description=level.description,
        levels=[(lv.name, lv.min) for lv in definition.levels],
        segment_name=segment.name,
        next_content=stored.next_content,
        points=now.points,
    )


def _event(
    program_key: str,
    lead: str,
    kind: str,
    properties: dict[str, Any],
    clock: Clock,
    *parts: str,
) -> dict[str, Any]:
    return {
        "id": event_id(program_key, lead, str(properties["assessment"]), *parts),
        "type": kind,
        "member": lead,
        "occurred_at": clock().isoformat(),
        "properties": properties,
    }


def _send(store: Store, program_key: str, events: list[dict[str, Any]], clock: Clock) -> None:
    """One batch through ingest; the first refusal raised (the answers were checked before,
    so only a race, such as a completion from elsewhere, gets here)."""
    outcomes = ingest_batch(store, program_key, list(enumerate(events)), clock=clock)
    for outcome in outcomes:
        if outcome.status is Status.REJECTED:
            assert outcome.error is not None
            if isinstance(outcome.error, Conflict) and outcome.error.field == "id":
                # the same form sent twice at once: its ids name the same lead, attempt and
                # answers, and only the time received differs; the first one counts
                continue
            raise outcome.error


def _completed(assessment: str) -> Conflict:
    return Conflict(
        f"you have completed assessment '{assessment}' already: your answers cannot change",
        field="assessment",
    )
