"""A lead answering an assessment: each `assessment.*` event moves their progress (started,
an answer, completed), a bad answer is refused naming its field, and the completed answers
score into dimensions, a readiness level, a segment, CRM field values and a sales note.

Pure: the result is a function of the set of answers (not of their order), so replaying the
log, or receiving the answers in another order, gives the same result."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import Event
from accolade.engine.state import MemberState
from accolade.errors import InvalidEvent
from accolade.program.assessments import CHOICE_KINDS, SCORE_TOTAL, Question, SegmentRule
from accolade.program.compiled import (
    ASSESSMENT_ANSWERED,
    ASSESSMENT_COMPLETED,
    CompiledAssessment,
    CompiledProgram,
)

Answer = str | list[str] | int | float
ASSESSMENT_FIELD = "properties.assessment"
QUESTION_FIELD = "properties.question"
ANSWER_FIELD = "properties.answer"


@dataclass(frozen=True)
class AnswerScore:
    """One counted answer and the scores it gave: the explanation of a result."""

    question: str
    answer: Answer
    scores: dict[str, int]


@dataclass(frozen=True)
class AssessmentResult:
    assessment: str
    lead: str
    scores: dict[str, int]  # per dimension, every dimension
    total: int
    level: str
    segment: str
    answers: tuple[AnswerScore, ...]  # counted answers, in the file's question order
    fields: dict[str, Answer] = field(default_factory=dict)  # CRM field -> value
    next_content: str | None = None
    nurture_path: str | None = None
    sales_note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "assessment": self.assessment,
            "lead": self.lead,
            "scores": self.scores,
            "total": self.total,
            "level": self.level,
            "segment": self.segment,
            "next_content": self.next_content,
            "nurture_path": self.nurture_path,
            "sales_note": self.sales_note,
            "fields": self.fields,
            "answers": [
                {"question": a.question, "answer": a.answer, "scores": a.scores}
                for a in self.answers
            ],
        }


def advance_assessment(
    program: CompiledProgram,
    state: MemberState,
    new: MemberState,
    event: Event,
    entries: list[Entry],
) -> None:
    """Move the lead's progress in the event's assessment; on completion, an ``assessment``
    entry (0 points) names the result. Raises InvalidEvent naming the field, changing nothing."""
    assessment = _assessment(program, event.properties)
    key = assessment.key
    progress = state.assessments.get(key)
    if progress is not None and progress.get("completed") is not None:
        raise InvalidEvent(
            f"assessment '{key}' is completed already for '{state.member}'", field=ASSESSMENT_FIELD
        )
    answers: dict[str, Answer] = dict(progress["answers"]) if progress else {}
    completed: int | None = None
    if event.type == ASSESSMENT_ANSWERED:
        question = _question(assessment, answers, event.properties)
        answers[question.key] = answer_to(question, event.properties.get("answer"))
    elif event.type == ASSESSMENT_COMPLETED:
        missing = unanswered(assessment, answers)
        if missing:
            raise InvalidEvent(
                f"question '{missing[0]}' of assessment '{key}' is not answered yet",
                field=ASSESSMENT_FIELD,
            )
        completed = event.ts
    new.own(state, "assessments")
    new.assessments[key] = {
        "started": progress["started"] if progress else event.ts,
        "answers": answers,
        "completed": completed,
    }
    if completed is not None:
        result = score(assessment, answers, state.member, with_note=False)
        reason = (
            f"assessment '{key}' completed: total {result.total}, level {result.level}, "
            f"segment {result.segment}"
        )
        entries.append(
            Entry(
                event.id, EntryKind.ASSESSMENT, f"assessment:{key}", 0, 0, reason, program.version
            )
        )


def _assessment(program: CompiledProgram, props: Mapping[str, Any]) -> CompiledAssessment:
    key = props.get("assessment")
    if not isinstance(key, str):
        raise InvalidEvent("is required: the assessment's key", field=ASSESSMENT_FIELD)
    found = program.assessments.get(key)
    if found is None:
        raise InvalidEvent(
            f"unknown assessment '{key}'{_did_you_mean(key, program.assessments)}",
            field=ASSESSMENT_FIELD,
        )
    return found


def _question(
    assessment: CompiledAssessment, answers: Mapping[str, Answer], props: Mapping[str, Any]
) -> Question:
    key = props.get("question")
    if not isinstance(key, str):
        raise InvalidEvent("is required: the question's key", field=QUESTION_FIELD)
    question = assessment.questions.get(key)
    if question is None:
        raise InvalidEvent(
            f"unknown question '{key}' in assessment '{assessment.key}'"
            f"{_did_you_mean(key, assessment.questions)}",
            field=QUESTION_FIELD,
        )
    section = assessment.section_of[key]
    if section is not None and section in skipped_sections(assessment, answers):
        raise InvalidEvent(
            f"question '{key}' is in section '{section}', which an earlier answer skips",
            field=QUESTION_FIELD,
        )
    return question


def answer_to(question: Question, value: object) -> Answer:
    """``value`` as an answer to ``question``, or InvalidEvent naming ``properties.answer``."""
    if question.kind == "single":
        if not isinstance(value, str) or value not in _option_keys(question):
            raise _bad_option(question, value)
        return value
    if question.kind == "multi":
        if not isinstance(value, list) or not value:
            raise InvalidEvent(
                f"question '{question.key}' takes a list of one or more of "
                f"{', '.join(_option_keys(question))}",
                field=ANSWER_FIELD,
            )
        for item in value:
            if not isinstance(item, str) or item not in _option_keys(question):
                raise _bad_option(question, item)
        chosen = set(value)
        return [k for k in _option_keys(question) if k in chosen]  # file order, once each
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(f"question '{question.key}' takes a number", field=ANSWER_FIELD)
    if question.kind == "scale":
        if not float(value).is_integer():
            raise InvalidEvent(
                f"question '{question.key}' takes a whole number", field=ANSWER_FIELD
            )
        value = int(value)
    low, high = question.min, question.max
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidEvent(
            f"{value} is out of range for question '{question.key}' "
            f"({_number(low) if low is not None else '...'} to "
            f"{_number(high) if high is not None else '...'})",
            field=ANSWER_FIELD,
        )
    return value


def _bad_option(question: Question, value: object) -> InvalidEvent:
    options = _option_keys(question)
    hint = _did_you_mean(value, options) if isinstance(value, str) else ""
    return InvalidEvent(
        f"unknown option {value!r} of question '{question.key}' (one of {', '.join(options)})"
        f"{hint}",
        field=ANSWER_FIELD,
    )


def skipped_sections(assessment: CompiledAssessment, answers: Mapping[str, Answer]) -> set[str]:
    """The sections the answers leave out. An answer skips only later sections, so reading
    the questions section by section, a skipping answer in a skipped section never counts."""
    sections = [s.key for s in assessment.definition.sections]
    skipped: set[str] = set()
    ordered = sorted(
        assessment.definition.questions,
        key=lambda q: sections.index(q.section) if q.section in sections else -1,
    )
    for question in ordered:
        if question.section in skipped or question.key not in answers:
            continue
        for option in _chosen(question, answers[question.key]):
            skipped.update(option.skip)
    return skipped


def unanswered(assessment: CompiledAssessment, answers: Mapping[str, Answer]) -> list[str]:
    """Required questions without an answer, in sections the answers do not skip."""
    skipped = skipped_sections(assessment, answers)
    return [
        q.key
        for q in assessment.definition.questions
        if q.required and q.key not in answers and q.section not in skipped
    ]


def score(
    assessment: CompiledAssessment,
    answers: Mapping[str, Answer],
    lead: str,
    *,
    with_note: bool = True,
) -> AssessmentResult:
    """The result of a set of answers: answers in skipped sections do not count.
    ``with_note=False`` leaves the sales note unrendered (the ledger entry's reason needs
    only the total, level and segment)."""
    definition = assessment.definition
    skipped = skipped_sections(assessment, answers)
    counted = [q for q in definition.questions if q.key in answers and q.section not in skipped]
    scores = {d.key: 0 for d in definition.dimensions}
    explained: list[AnswerScore] = []
    for question in counted:
        given = answer_scores(question, answers[question.key])
        for name, points in given.items():
            scores[name] += points
        explained.append(AnswerScore(question.key, answers[question.key], given))
    total = sum(scores.values())
    level = definition.levels[0]
    for candidate in definition.levels:
        if candidate.min <= total:
            level = candidate
    mine = {q.key: answers[q.key] for q in counted}
    segment = next(
        s
        for s in definition.segments
        if all(_holds(rule, scores, total, level.key, mine) for rule in s.when)
    )
    fields: dict[str, Answer] = {}
    for question in counted:
        for crm in question.crm:
            fields[crm.field] = _crm_value(question, answers[question.key])
    values: dict[str, Answer] = {
        **scores,
        "total": total,
        "level": level.key,
        "segment": segment.key,
        "nurture_path": segment.nurture_path or "",
    }
    for result_field in definition.result_fields:
        fields[result_field.field] = values[result_field.value]
    template = assessment.sales_notes.get(segment.key) if with_note else None
    note = None
    if template is not None:
        note = template.render(
            lead=lead,
            total=total,
            scores=scores,
            level=level.name,
            segment=segment.name,
            answers={
                q.key: _shown(q, mine[q.key]) if q.key in mine else "" for q in definition.questions
            },
        )
    return AssessmentResult(
        assessment=assessment.key,
        lead=lead,
        scores=scores,
        total=total,
        level=level.key,
        segment=segment.key,
        answers=tuple(explained),
        fields=fields,
        next_content=segment.next_content,
        nurture_path=segment.nurture_path,
        sales_note=note,
    )


def answer_scores(question: Question, answer: Answer) -> dict[str, int]:
    """The scores one answer gives, per dimension (only those it gives)."""
    if question.kind in CHOICE_KINDS:
        out: dict[str, int] = {}
        for option in _chosen(question, answer):
            for name, points in option.scores.items():
                out[name] = out.get(name, 0) + points
        return out
    assert isinstance(answer, int | float)
    if question.kind == "scale":
        steps = int(answer) - int(question.min or 0)
        return {name: weight * steps for name, weight in question.scores.items()}
    for band in question.bands:
        if (band.min is None or answer >= band.min) and (band.max is None or answer < band.max):
            return dict(band.scores)
    return {}


def highest_scores(assessment: CompiledAssessment) -> dict[str, int]:
    """Per dimension, the most the questions can give it: each question's best answer
    (every positive option of a multi-choice), branching left aside."""
    most = {d.key: 0 for d in assessment.definition.dimensions}
    for question in assessment.definition.questions:
        for name in most:
            if question.kind == "single":
                best = max(o.scores.get(name, 0) for o in question.options)
            elif question.kind == "multi":
                best = sum(max(0, o.scores.get(name, 0)) for o in question.options)
            elif question.kind == "scale":
                best = question.scores.get(name, 0) * int((question.max or 0) - (question.min or 0))
            else:
                best = max((b.scores.get(name, 0) for b in question.bands), default=0)
            most[name] += max(0, best)
    return most


def _chosen(question: Question, answer: Answer) -> list[Any]:
    if question.kind not in CHOICE_KINDS:
        return []
    names = answer if isinstance(answer, list) else [answer]
    return [o for o in question.options if o.key in names]


def _holds(
    rule: SegmentRule,
    scores: Mapping[str, int],
    total: int,
    level: str,
    answers: Mapping[str, Answer],
) -> bool:
    if rule.score is not None:
        value: Answer = total if rule.score == SCORE_TOTAL else scores[rule.score]
    elif rule.level is not None:
        return level in rule.level
    else:
        assert rule.question is not None
        if rule.question not in answers:
            return False
        value = answers[rule.question]
    if isinstance(value, list):  # a multi-choice answer: any chosen option
        return any(_test(rule, item) for item in value)
    return _test(rule, value)


def _test(rule: SegmentRule, value: str | int | float) -> bool:
    if rule.eq is not None:
        return value == rule.eq
    if rule.in_ is not None:
        return value in rule.in_
    if isinstance(value, str):
        return False
    if rule.gt is not None:
        return value > rule.gt
    if rule.gte is not None:
        return value >= rule.gte
    if rule.lt is not None:
        return value < rule.lt
    assert rule.lte is not None
    return value <= rule.lte


def _crm_value(question: Question, answer: Answer) -> Answer:
    """What a CRM field gets: an option's ``crm_value`` (or key); several joined by ';' (the
    way HubSpot and Salesforce take multi-select values); a number as it is."""
    if question.kind not in CHOICE_KINDS:
        return answer
    return ";".join(o.crm_value or o.key for o in _chosen(question, answer))


def _shown(question: Question, answer: Answer) -> str:
    """An answer as a sales note shows it: the options' labels, or the number."""
    if question.kind in CHOICE_KINDS:
        return ", ".join(o.label for o in _chosen(question, answer))
    assert isinstance(answer, int | float)
    return _number(answer)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _option_keys(question: Question) -> list[str]:
    return [o.key for o in question.options]


def _did_you_mean(name: str, choices: Mapping[str, object] | Sequence[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
