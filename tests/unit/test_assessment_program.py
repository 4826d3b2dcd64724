"""The `assessments:` section of a program file: errors named by their path, and the data value
rule's warnings (a question that feeds nothing)."""

from __future__ import annotations

import pytest

from accolade.errors import InvalidProgram
from accolade.program.assessment_checks import assessment_warnings
from accolade.program.loader import load_program
from tests.assessment_program import ASSESSMENT_PROGRAM


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(text)
    return [str(e) for e in caught.value.errors]


def changed(old: str, new: str) -> str:
    assert old in ASSESSMENT_PROGRAM, old
    return ASSESSMENT_PROGRAM.replace(old, new, 1)


def test_the_test_program_is_valid_and_warns_of_nothing():
    assert assessment_warnings(load_program(ASSESSMENT_PROGRAM)) == []


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (
            "{key: erp, label: ERP, scores: {fit: 3, maturity: 1}}",
            "{key: erp, label: ERP, scores: {fit: 3, maturty: 1}}",
            "assessments[0].questions[1].options[1].scores.maturty: unknown dimension "
            "'maturty' (did you mean 'maturity'?)",
        ),
        (
            "skip: [warehouse]",
            "skip: [basics]",
            "assessments[0].questions[0].options[1].skip[0]: an answer can skip only a "
            "section after its own",
        ),
        (
            "skip: [warehouse]",
            "skip: [warehouses]",
            "assessments[0].questions[0].options[1].skip[0]: unknown section 'warehouses' "
            "(did you mean 'warehouse'?)",
        ),
        (
            "section: timing",
            "section: timings",
            "assessments[0].questions[4].section: unknown section 'timings' "
            "(did you mean 'timing'?)",
        ),
        (
            "{min: 1, max: 100, scores: {fit: 2}}",
            "{min: 1, max: 100, scores: {fits: 2}}",
            "assessments[0].questions[2].bands[1].scores.fits: unknown dimension 'fits' "
            "(did you mean 'fit'?)",
        ),
        (
            "scores: {maturity: 1}\n",
            "scores: {urgent: 1}\n",
            "assessments[0].questions[3].scores.urgent: unknown dimension 'urgent' "
            "(did you mean 'urgency'?)",
        ),
        (
            "{key: developing, name: Developing, min: 6}",
            "{key: developing, name: Developing, min: 0}",
            "assessments[0].levels[1].min: must be above the previous level's 0",
        ),
        (
            "- {level: [ready]}",
            "- {level: [redy]}",
            "assessments[0].segments[0].when[0].level[0]: unknown level 'redy' "
            "(did you mean 'ready'?)",
        ),
        (
            "- {score: urgency, gte: 5}",
            "- {score: urgent, gte: 5}",
            "assessments[0].segments[0].when[1].score: unknown score 'urgent' "
            "(did you mean 'urgency'?)",
        ),
        (
            "- {question: warehouse_in_place, eq: has_one}",
            "- {question: warehouse_in_place, eq: has_two}",
            "assessments[0].segments[1].when[0].eq: unknown option 'has_two' "
            "(did you mean 'has_one'?)",
        ),
        (
            "- {question: warehouse_in_place, eq: has_one}",
            "- {question: warehouse, eq: has_one}",
            "assessments[0].segments[1].when[0].question: unknown question 'warehouse' "
            "(did you mean 'warehouse_size'?)",
        ),
        (
            "        next_content: data-readiness-guide\n",
            "        when: [{score: total, gte: 0}]\n        next_content: data-readiness-guide\n",
            "assessments[0].segments[2].when: the last segment takes everyone else: no 'when'",
        ),
        (
            "{field: readiness_score, value: total,",
            "{field: readiness_score, value: totl,",
            "assessments[0].result_fields[1].value: must be one of total, level, segment, "
            "nurture_path, maturity, urgency, fit (did you mean 'total'?)",
        ),
        (
            'sales_note: "{{ lead }} has a warehouse; maturity {{ scores.maturity }}."',
            'sales_note: "{{ lead }} has a warehouse; maturity {{ score.maturity }}."',
            "assessments[0].segments[1].sales_note: cannot be rendered: 'score' is undefined",
        ),
        (
            'sales_note: "{{ lead }} has a warehouse; maturity {{ scores.maturity }}."',
            'sales_note: "{{ lead.__class__.__mro__ }}"',
            "assessments[0].segments[1].sales_note: cannot be rendered: access to attribute "
            "'__class__' of 'str' object is unsafe.",
        ),
        (
            'sales_note: "{{ lead }} has a warehouse; maturity {{ scores.maturity }}."',
            'sales_note: "{{ lead "',
            "assessments[0].segments[1].sales_note: cannot be rendered: unexpected end of "
            "template, expected 'end of print statement'.",
        ),
    ],
)
def test_a_mistake_in_an_assessment_is_named_by_its_path(old, new, error):
    assert error in errors_of(changed(old, new))


def test_a_choice_question_needs_two_options():
    text = changed(
        '          - {key: none, label: "No", skip: [warehouse], crm_value: "false"}\n', ""
    )
    assert "assessments[0].questions[0]: a single question needs at least two options" in (
        errors_of(text)
    )


def test_a_segment_rule_names_one_subject_and_one_test():
    text = changed("- {score: urgency, gte: 5}", "- {score: urgency, gte: 5, lt: 9}")
    assert (
        "assessments[0].segments[0].when[1]: give exactly one test of eq, gt, gte, lt, lte, in"
        in errors_of(text)
    )


def test_a_question_that_feeds_nothing_is_a_warning_not_an_error():
    text = changed(
        "    levels:\n",
        "      - key: favourite_colour\n"
        "        kind: single\n"
        "        text: Your favourite colour?\n"
        "        required: false\n"
        "        options:\n"
        "          - {key: red, label: Red}\n"
        "          - {key: blue, label: Blue}\n"
        "    levels:\n",
    )
    warnings = [str(w) for w in assessment_warnings(load_program(text))]
    assert warnings == [
        "assessments[0].questions[5]: question 'favourite_colour' feeds no score, segment, "
        "CRM field or sales note: ask only what improves segmentation or follow-up"
    ]


def test_a_question_read_only_by_a_sales_note_feeds_it():
    text = changed(
        "    levels:\n",
        "      - key: role\n"
        "        kind: single\n"
        "        text: Your role?\n"
        "        options:\n"
        "          - {key: cto, label: CTO}\n"
        "          - {key: analyst, label: Analyst}\n"
        "    levels:\n",
    ).replace(
        "maturity {{ scores.maturity }}.", "maturity {{ scores.maturity }}, {{ answers['role'] }}."
    )
    assert assessment_warnings(load_program(text)) == []
