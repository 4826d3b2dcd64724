"""A lead answering an assessment, in the engine: progress, scoring, branching, completion, and
bad answers refused naming their field with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accolade.engine.assessments import answer_scores, highest_scores, score
from accolade.engine.evaluate import evaluate
from accolade.engine.events import Event, parse_event
from accolade.engine.state import MemberState
from accolade.errors import InvalidEvent
from accolade.program.compiled import CompiledProgram
from tests.assessment_program import (
    ASSESSMENT_PROGRAM,
    HOT_ANSWERS,
    SKIPPING_ANSWERS,
    assessment_events,
)
from tests.unit.builders import program, run

PROGRAM = program(ASSESSMENT_PROGRAM)
READINESS = PROGRAM.assessments["readiness"]


def events_of(lead: str, answers: dict[str, Any], **kw: Any) -> list[Event]:
    return [parse_event(e) for e in assessment_events(lead, answers, **kw)]


def answered(question: str, answer: object, id: str = "x1", lead: str = "ann") -> Event:
    return parse_event(
        {
            "id": id,
            "type": "assessment.answered",
            "member": lead,
            "occurred_at": "2026-03-02T15:00:00Z",
            "properties": {"assessment": "readiness", "question": question, "answer": answer},
        }
    )


def completed(id: str = "done2", lead: str = "ann") -> Event:
    return parse_event(
        {
            "id": id,
            "type": "assessment.completed",
            "member": lead,
            "occurred_at": "2026-03-02T16:00:00Z",
            "properties": {"assessment": "readiness"},
        }
    )


def refusal(prog: CompiledProgram, state: MemberState, event: Event) -> tuple[str, str]:
    with pytest.raises(InvalidEvent) as caught:
        evaluate(prog, state, event)
    return caught.value.field or "", caught.value.message


def test_completing_gives_one_assessment_entry_with_no_points():
    done = run(PROGRAM, events_of("ann", HOT_ANSWERS), MemberState("ann"))
    entries = done.entries
    assert [(e.kind.value, e.rule, e.points) for e in entries] == [
        ("assessment", "assessment:readiness", 0)
    ]
    assert "total 21, level ready, segment hot" in entries[0].reason
    assert done.state.lifetime == 0 and done.state.badges == {}


def test_the_result_explains_each_answers_scores_and_what_follows():
    result = score(READINESS, HOT_ANSWERS, "ann")
    assert result.scores == {"maturity": 7, "urgency": 5, "fit": 9}
    assert (result.total, result.level, result.segment) == (21, "ready", "hot")
    assert [(a.question, a.scores) for a in result.answers] == [
        ("warehouse_in_place", {"maturity": 3}),
        ("sources", {"fit": 5, "maturity": 1}),
        ("warehouse_size", {"fit": 4}),
        ("team_confidence", {"maturity": 3}),
        ("timeline", {"urgency": 5}),
    ]
    assert (result.next_content, result.nurture_path) == ("migration-checklist", "sales_fast_track")
    assert result.fields == {
        "has_warehouse": "true",
        "data_sources": "crm;erp",
        "readiness_level": "ready",
        "readiness_score": 21,
    }
    assert result.sales_note == ("ann scored 21 (Ready): needs it This quarter, loads CRM, ERP.")


def test_an_answer_can_skip_a_later_section():
    result = score(READINESS, SKIPPING_ANSWERS, "bo")
    assert (result.total, result.level, result.segment) == (1, "early", "education")
    assert result.sales_note is None
    assert result.nurture_path == "nurture_education"
    done = run(PROGRAM, events_of("bo", SKIPPING_ANSWERS), MemberState("bo"))
    assert done.state.assessments["readiness"]["completed"] is not None


def test_a_question_in_a_skipped_section_is_refused():
    state = run(PROGRAM, events_of("bo", SKIPPING_ANSWERS, complete=False), MemberState("bo")).state
    assert refusal(PROGRAM, state, answered("warehouse_size", 3, lead="bo")) == (
        "properties.question",
        "question 'warehouse_size' is in section 'warehouse', which an earlier answer skips",
    )


def test_a_segment_rule_on_an_answer_places_the_lead():
    answers = {**HOT_ANSWERS, "timeline": "later", "team_confidence": 1}
    result = score(READINESS, answers, "cy")
    assert (result.total, result.level, result.segment) == (13, "ready", "warehouse_later")
    assert result.sales_note == "cy has a warehouse; maturity 4."


@pytest.mark.parametrize(
    ("question", "answer", "field", "message"),
    [
        ("nope", "x", "properties.question", "unknown question 'nope' in assessment 'readiness'"),
        ("timeline", "soon", "properties.answer", "unknown option 'soon' of question 'timeline'"),
        ("sources", "crm", "properties.answer", "question 'sources' takes a list of one or more"),
        ("sources", ["crm", "sap"], "properties.answer", "unknown option 'sap'"),
        ("warehouse_size", -1, "properties.answer", "-1 is out of range for question"),
        ("warehouse_size", "big", "properties.answer", "question 'warehouse_size' takes a number"),
        ("team_confidence", 6, "properties.answer", "6 is out of range"),
        ("team_confidence", 2.5, "properties.answer", "takes a whole number"),
        ("team_confidence", True, "properties.answer", "takes a number"),
    ],
)
def test_a_bad_answer_is_refused_naming_its_field(question, answer, field, message):
    state = MemberState("ann")
    got_field, got_message = refusal(PROGRAM, state, answered(question, answer))
    assert got_field == field
    assert message in got_message


def test_an_unknown_assessment_is_refused_with_a_suggestion():
    event = parse_event(
        {
            "id": "u1",
            "type": "assessment.started",
            "member": "ann",
            "occurred_at": "2026-03-02T15:00:00Z",
            "properties": {"assessment": "readines"},
        }
    )
    assert refusal(PROGRAM, MemberState("ann"), event) == (
        "properties.assessment",
        "unknown assessment 'readines' (did you mean 'readiness'?)",
    )


def test_an_answer_after_completion_is_refused():
    state = run(PROGRAM, events_of("ann", HOT_ANSWERS), MemberState("ann")).state
    field, message = refusal(PROGRAM, state, answered("timeline", "later"))
    assert field == "properties.assessment"
    assert message == "assessment 'readiness' is completed already for 'ann'"


def test_completing_with_a_required_question_unanswered_is_refused():
    partial = {k: v for k, v in HOT_ANSWERS.items() if k != "timeline"}
    state = run(PROGRAM, events_of("ann", partial, complete=False), MemberState("ann")).state
    assert refusal(PROGRAM, state, completed()) == (
        "properties.assessment",
        "question 'timeline' of assessment 'readiness' is not answered yet",
    )


def test_a_refused_event_leaves_the_state_it_was_given_untouched():
    state = run(PROGRAM, events_of("ann", HOT_ANSWERS, complete=False), MemberState("ann")).state
    before = {k: dict(v) for k, v in state.assessments.items()}
    refusal(PROGRAM, state, answered("timeline", "soon"))
    assert state.assessments == before


def test_a_later_answer_to_the_same_question_replaces_the_first():
    events = [*events_of("ann", HOT_ANSWERS, complete=False), answered("timeline", "later")]
    state = run(PROGRAM, [*events, completed()], MemberState("ann")).state
    assert state.assessments["readiness"]["answers"]["timeline"] == "later"


def test_assessment_events_are_unknown_to_a_program_without_assessments():
    plain = program({"actions": [{"key": "act", "points": 1}]})
    field, message = refusal(plain, MemberState("ann"), answered("timeline", "later"))
    assert field == "type"
    assert "unknown event type 'assessment.answered'" in message


def test_an_action_on_completion_pays_only_when_the_program_says_so():
    source = ASSESSMENT_PROGRAM.replace(
        "  - key: webinar_attended\n    points: 10\n",
        "  - key: webinar_attended\n    points: 10\n"
        "  - key: diagnosed\n    event: assessment.completed\n    points: 50\n",
    )
    done = run(program(source), events_of("ann", HOT_ANSWERS), MemberState("ann"))
    assert [(e.kind.value, e.points) for e in done.entries] == [("assessment", 0), ("earn", 50)]


# Property tests ---------------------------------------------------------------------------

_QUESTIONS = {q.key: q for q in READINESS.definition.questions}


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Every question answered with a valid answer, but those a drawn answer skips."""
    answers: dict[str, Any] = {}
    first = draw(st.sampled_from(["has_one", "none"]))
    answers["warehouse_in_place"] = first
    answers["sources"] = draw(
        st.lists(st.sampled_from(["crm", "erp", "web"]), min_size=1, max_size=3, unique=True)
    )
    if first == "has_one":
        answers["warehouse_size"] = draw(
            st.one_of(st.integers(0, 10000), st.floats(0, 10000, allow_nan=False))
        )
        answers["team_confidence"] = draw(st.integers(1, 5))
    answers["timeline"] = draw(st.sampled_from(["quarter", "year", "later"]))
    return answers


@settings(max_examples=100, deadline=None)
@given(answers=answer_sets())
def test_the_total_is_the_sum_of_the_chosen_answers_scores(answers):
    result = score(READINESS, answers, "ann")
    expected: dict[str, int] = {"maturity": 0, "urgency": 0, "fit": 0}
    for key, answer in answers.items():
        question = _QUESTIONS[key]
        if question.kind in ("single", "multi"):
            chosen = answer if isinstance(answer, list) else [answer]
            for option in question.options:
                if option.key in chosen:
                    for name, points in option.scores.items():
                        expected[name] += points
        else:
            for name, points in answer_scores(question, answer).items():
                expected[name] += points
    assert result.scores == expected
    assert result.total == sum(expected.values())
    assert sum(sum(a.scores.values()) for a in result.answers) == result.total


@settings(max_examples=60, deadline=None)
@given(answers=answer_sets(), data=st.data())
def test_answers_in_any_order_give_the_same_result(answers, data):
    in_order = events_of("ann", answers)
    answers_only = in_order[1:-1]
    shuffled = data.draw(st.permutations(answers_only))
    # an answer that skips a section comes before the section's answers in any valid order:
    # here no answer is in a skipped section, so every order is valid
    first = run(PROGRAM, in_order, MemberState("ann"))
    second = run(PROGRAM, [in_order[0], *shuffled, in_order[-1]], MemberState("ann"))
    assert (
        second.state.assessments["readiness"]["answers"]
        == (first.state.assessments["readiness"]["answers"])
    )
    assert [e.reason for e in second.entries] == [e.reason for e in first.entries]
    key = "readiness"
    assert score(READINESS, second.state.assessments[key]["answers"], "ann") == score(
        READINESS, first.state.assessments[key]["answers"], "ann"
    )


@settings(max_examples=100, deadline=None)
@given(answers=answer_sets())
def test_no_answers_score_a_dimension_above_its_highest(answers):
    """highest_scores is the hosted page's "out of": a bound every answer set stays under."""
    highest = highest_scores(READINESS)
    result = score(READINESS, answers, "ann")
    assert all(result.scores[name] <= most for name, most in highest.items())


def test_the_highest_scores_are_reached_by_the_best_answers():
    best = {
        "warehouse_in_place": "has_one",
        "sources": ["crm", "erp", "web"],
        "warehouse_size": 10000,
        "team_confidence": 5,
        "timeline": "quarter",
    }
    assert score(READINESS, best, "ann").scores == highest_scores(READINESS)
