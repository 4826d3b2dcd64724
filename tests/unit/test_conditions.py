"""Conditions on event properties and member attributes, compiled once to closures."""

from __future__ import annotations

from typing import Any

import pytest

import accolade.program.compile as compile_module
from accolade.program.compile import compile_condition
from accolade.program.models import Condition
from tests.unit.builders import event, one_action, run


def holds(condition: dict[str, Any], properties: dict[str, Any] | None = None, **attributes: Any):
    compiled = compile_condition(Condition.model_validate(condition))
    return compiled.check(properties or {}, attributes)


def test_eq_true_matches_the_boolean():
    assert holds({"property": "qualified", "eq": True}, {"qualified": True})


def test_eq_true_does_not_match_one():
    assert not holds({"property": "qualified", "eq": True}, {"qualified": 1})


def test_eq_one_does_not_match_true():
    assert not holds({"property": "level", "eq": 1}, {"level": True})


def test_eq_one_matches_one_point_zero():
    assert holds({"property": "level", "eq": 1}, {"level": 1.0})


def test_eq_text_does_not_match_a_number_written_as_text():
    assert not holds({"property": "level", "eq": 1}, {"level": "1"})


def test_eq_on_a_missing_property_is_false():
    assert not holds({"property": "qualified", "eq": False}, {})


def test_ne_holds_for_a_different_value():
    assert holds({"property": "stage", "ne": "lost"}, {"stage": "won"})


def test_ne_fails_for_the_same_value():
    assert not holds({"property": "stage", "ne": "lost"}, {"stage": "lost"})


def test_ne_false_holds_for_zero():
    assert holds({"property": "flag", "ne": False}, {"flag": 0})


@pytest.mark.parametrize(
    ("test", "value", "expected"),
    [
        ("gt", 301, True),
        ("gt", 300, False),
        ("gte", 300, True),
        ("gte", 299.5, False),
        ("lt", 299, True),
        ("lt", 300, False),
        ("lte", 300, True),
        ("lte", 300.5, False),
    ],
)
def test_numeric_comparisons_against_300(test: str, value: float, expected: bool):
    assert holds({"property": "duration", test: 300}, {"duration": value}) is expected


@pytest.mark.parametrize("value", ["400", True, None, [400], {"s": 400}])
@pytest.mark.parametrize("test", ["gt", "gte", "lt", "lte"])
def test_comparing_a_non_number_is_false(test: str, value: Any):
    assert not holds({"property": "duration", test: 0}, {"duration": value})


def test_comparing_a_missing_property_is_false():
    assert not holds({"property": "duration", "lte": 300}, {})


def test_in_holds_for_a_listed_value():
    assert holds({"attribute": "region", "in": ["EMEA", "APAC"]}, region="EMEA")


def test_in_fails_for_an_unlisted_value():
    assert not holds({"attribute": "region", "in": ["EMEA", "APAC"]}, region="NA")


def test_in_fails_for_a_missing_value():
    assert not holds({"attribute": "region", "in": ["EMEA"]})


def test_in_a_list_of_numbers_does_not_match_true():
    # Same rule as eq: a boolean is not the number 1.
    assert not holds({"property": "level", "in": [1, 2]}, {"level": True})


def test_not_in_holds_for_an_unlisted_value():
    assert holds({"attribute": "region", "not_in": ["EMEA"]}, region="NA")


def test_not_in_fails_for_a_listed_value():
    assert not holds({"attribute": "region", "not_in": ["EMEA"]}, region="EMEA")


def test_not_in_holds_for_a_missing_value():
    assert holds({"attribute": "region", "not_in": ["EMEA"]})


def test_exists_holds_for_a_present_value_even_false():
    assert holds({"property": "review", "exists": True}, {"review": False})


def test_exists_treats_null_as_missing():
    assert not holds({"property": "review", "exists": True}, {"review": None})


def test_exists_false_holds_for_a_missing_value():
    assert holds({"property": "review", "exists": False}, {})


def test_property_condition_does_not_read_attributes():
    assert not holds({"property": "region", "eq": "EMEA"}, {}, region="EMEA")


def test_attribute_condition_does_not_read_properties():
    assert not holds({"attribute": "region", "eq": "EMEA"}, {"region": "EMEA"})


def test_unmet_condition_earns_nothing_and_says_what_was_needed():
    prog = one_action(points=10, conditions=[{"property": "duration_seconds", "gte": 300}])
    evaluation = run(prog, [event(properties={"duration_seconds": 120})]).last
    assert evaluation.points == 0
    assert [e.kind.value for e in evaluation.entries if e.rule.startswith("action:")] == []
    assert evaluation.notes == ("action 'act' not matched: needs property duration_seconds >= 300",)


def test_attribute_sent_on_an_earlier_event_is_remembered_for_conditions():
    prog = one_action(points=10, conditions=[{"attribute": "region", "eq": "EMEA"}])
    result = run(prog, [event(attributes={"region": "EMEA"}), event()])
    assert [ev.points for ev in result.evaluations] == [10, 10]


def test_conditions_are_compiled_once_not_per_event(monkeypatch: pytest.MonkeyPatch):
    prog = one_action(points=10, conditions=[{"property": "duration_seconds", "gte": 300}])

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a condition was compiled while evaluating an event")

    monkeypatch.setattr(compile_module, "compile_condition", refuse)
    result = run(prog, [event(properties={"duration_seconds": 300})])
    assert result.last.points == 10
