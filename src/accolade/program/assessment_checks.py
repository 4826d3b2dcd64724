"""Checks of the `assessments:` section that need a whole assessment: unique keys, scores on
dimensions that exist, skips of later sections, segment rules that name what exists, sales
notes that render; and the data value rule, a warning: a question whose answer feeds no
score, segment, CRM field or sales note should not be asked.

The errors read the raw YAML mapping, so that each names the path the author wrote
(``assessments[0].questions[3].options[1].scores.urgency``)."""

from __future__ import annotations

import re
from typing import Any

from accolade.errors import FieldError
from accolade.program.assessments import (
    CHOICE_KINDS,
    RESULT_VALUES,
    SCORE_TOTAL,
    Assessment,
    sales_note_template,
)
from accolade.program.checks import _items, _keys, _list, _unknown, did_you_mean
from accolade.program.models import Program


def check_assessments(raw: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    assessments = _items(raw.get("assessments"))
    _keys(assessments, "assessments", errors)
    for i, assessment in assessments:
        _check_assessment(f"assessments[{i}]", assessment, errors)
    return errors


def _check_assessment(path: str, raw: dict[str, Any], errors: list[FieldError]) -> None:
    dimensions = _keys(_items(raw.get("dimensions")), f"{path}.dimensions", errors)
    sections = _keys(_items(raw.get("sections")), f"{path}.sections", errors)
    questions = _items(raw.get("questions"))
    question_keys = _keys(questions, f"{path}.questions", errors)
    levels = _keys(_items(raw.get("levels")), f"{path}.levels", errors)
    options_of: dict[str, list[str]] = {}
    for j, question in questions:
        where = f"{path}.questions[{j}]"
        section = question.get("section")
        if isinstance(section, str) and section not in sections:
            errors.append(_unknown(f"{where}.section", "section", section, sections))
        position = sections.index(section) if section in sections else -1
        options = _items(question.get("options"))
        if isinstance(question.get("key"), str):
            options_of[question["key"]] = _keys(options, f"{where}.options", errors)
        _check_scores(f"{where}.scores", question.get("scores"), dimensions, errors)
        for k, band in _items(question.get("bands")):
            _check_scores(f"{where}.bands[{k}].scores", band.get("scores"), dimensions, errors)
        for k, option in options:
            _check_scores(f"{where}.options[{k}].scores", option.get("scores"), dimensions, errors)
            for m, skipped in enumerate(_list(option.get("skip"))):
                if not isinstance(skipped, str):
                    continue
                field = f"{where}.options[{k}].skip[{m}]"
                if skipped not in sections:
                    errors.append(_unknown(field, "section", skipped, sections))
                elif sections.index(skipped) <= position:
                    errors.append(
                        FieldError(field, "an answer can skip only a section after its own")
                    )
    _check_levels(path, _items(raw.get("levels")), errors)
    _check_segments(path, raw, dimensions, question_keys, levels, options_of, errors)
    for j, result_field in _items(raw.get("result_fields")):
        value = result_field.get("value")
        known = [*RESULT_VALUES, *dimensions]
        if isinstance(value, str) and value not in known:
            errors.append(
                FieldError(
                    f"{path}.result_fields[{j}].value",
                    f"must be one of {', '.join(known)}{did_you_mean(value, known)}",
                )
            )


def _check_scores(
    path: str, scores: object, dimensions: list[str], errors: list[FieldError]
) -> None:
    if not isinstance(scores, dict):
        return
    for name in scores:
        if isinstance(name, str) and name not in dimensions:
            errors.append(_unknown(f"{path}.{name}", "dimension", name, dimensions))


def _check_levels(
    path: str, levels: list[tuple[int, dict[str, Any]]], errors: list[FieldError]
) -> None:
    previous: int | None = None
    for j, level in levels:
        points = level.get("min")
        if not isinstance(points, int) or isinstance(points, bool):
            continue
        if previous is not None and points <= previous:
            errors.append(
                FieldError(
                    f"{path}.levels[{j}].min", f"must be above the previous level's {previous}"
                )
            )
        previous = points


def _check_segments(
    path: str,
    raw: dict[str, Any],
    dimensions: list[str],
    question_keys: list[str],
    levels: list[str],
    options_of: dict[str, list[str]],
    errors: list[FieldError],
) -> None:
    segments = _items(raw.get("segments"))
    _keys(segments, f"{path}.segments", errors)
    kinds = {q.get("key"): q.get("kind") for _, q in _items(raw.get("questions"))}
    scores = [SCORE_TOTAL, *dimensions]
    for position, (j, segment) in enumerate(segments):
        where = f"{path}.segments[{j}]"
        last = position == len(segments) - 1
        rules = _items(segment.get("when"))
        if last and rules:
            errors.append(
                FieldError(f"{where}.when", "the last segment takes everyone else: no 'when'")
            )
        if not last and not rules:
            errors.append(
                FieldError(f"{where}.when", "is required (only the last segment has none)")
            )
        for k, rule in rules:
            field = f"{where}.when[{k}]"
            score, question = rule.get("score"), rule.get("question")
            if isinstance(score, str) and score not in scores:
                errors.append(_unknown(f"{field}.score", "score", score, scores))
            for n, level in enumerate(_list(rule.get("level"))):
                if isinstance(level, str) and level not in levels:
                    errors.append(_unknown(f"{field}.level[{n}]", "level", level, levels))
            if not isinstance(question, str):
                continue
            if question not in question_keys:
                errors.append(_unknown(f"{field}.question", "question", question, question_keys))
            elif kinds.get(question) in CHOICE_KINDS:
                for name, value in _tested(rule):
                    options = options_of.get(question, [])
                    if value not in options:
                        errors.append(_unknown(f"{field}.{name}", "option", str(value), options))


def _tested(rule: dict[str, Any]) -> list[tuple[str, object]]:
    """The values an ``eq`` or ``in`` test names, each with the path below the rule."""
    out: list[tuple[str, object]] = []
    if "eq" in rule:
        out.append(("eq", rule["eq"]))
    out.extend((f"in[{n}]", value) for n, value in enumerate(_list(rule.get("in"))))
    return out


def check_sales_notes(program: Program) -> list[FieldError]:
    """Each sales note compiles and renders against a sample result: a name the result does
    not have, or what the sandbox refuses, is an error now rather than at a lead's completion."""
    from jinja2 import TemplateError

    errors: list[FieldError] = []
    for i, assessment in enumerate(program.assessments):
        sample = sample_note_context(assessment)
        for j, segment in enumerate(assessment.segments):
            if segment.sales_note is None:
                continue
            try:
                sales_note_template(segment.sales_note).render(sample)
            except TemplateError as exc:
                errors.append(
                    FieldError(
                        f"assessments[{i}].segments[{j}].sales_note",
                        f"cannot be rendered: {exc.message or exc}",
                    )
                )
    return errors


def sample_note_context(assessment: Assessment) -> dict[str, object]:
    """What a sales note is rendered with, for checking it: the names a real result gives."""
    return {
        "lead": "lead",
        "total": 0,
        "scores": {d.key: 0 for d in assessment.dimensions},
        "level": assessment.levels[0].name,
        "segment": assessment.segments[0].name,
        "answers": {q.key: "" for q in assessment.questions},
    }


def assessment_warnings(program: Program) -> list[FieldError]:
    """The data value rule: a question whose answer gives no score, is tested by no segment,
    writes no CRM field and appears in no sales note only costs the lead time."""
    warnings: list[FieldError] = []
    for i, assessment in enumerate(program.assessments):
        tested = {r.question for s in assessment.segments for r in s.when if r.question}
        notes = " ".join(s.sales_note or "" for s in assessment.segments)
        for j, question in enumerate(assessment.questions):
            scored = (
                any(any(o.scores.values()) for o in question.options)
                or any(question.scores.values())
                or any(any(b.scores.values()) for b in question.bands)
            )
            if scored or question.key in tested or question.crm or _in_note(question.key, notes):
                continue
            warnings.append(
                FieldError(
                    f"assessments[{i}].questions[{j}]",
                    f"question '{question.key}' feeds no score, segment, CRM field or sales "
                    "note: ask only what improves segmentation or follow-up",
                )
            )
    return warnings


def _in_note(question: str, notes: str) -> bool:
    return (
        re.search(rf"answers\s*(\.\s*{question}\b|\[\s*['\"]{question}['\"]\s*\])", notes)
        is not None
    )
