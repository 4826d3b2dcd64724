"""Events as senders post them: validation naming the field, and unknown types with a hint."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accolade.engine.evaluate import evaluate
from accolade.engine.events import parse_event
from accolade.errors import InvalidEvent
from tests.unit.builders import T0, demo, event, member, run

VALID = {"id": "e1", "type": "quiz.passed", "member": "ada", "occurred_at": "2026-03-02T09:00:00Z"}


def invalid(**changes: Any) -> InvalidEvent:
    data = {**VALID, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data)
    return caught.value


def test_event_time_with_an_offset_is_kept_as_utc():
    parsed = parse_event({**VALID, "occurred_at": "2026-03-02T09:00:00-05:00"})
    assert parsed.occurred_at.isoformat() == "2026-03-02T14:00:00+00:00"
    assert parsed.ts == int(T0.timestamp())


def test_event_time_without_an_offset_is_refused():
    error = invalid(occurred_at="2026-03-02T09:00:00")
    assert (error.field, error.message) == (
        "occurred_at",
        "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    )


def test_event_time_that_is_not_a_time_is_refused():
    assert invalid(occurred_at="yesterday").field == "occurred_at"


def test_missing_member_is_required():
    error = invalid(member=None)
    assert (error.field, error.message) == ("member", "is required")


def test_empty_id_is_refused():
    error = invalid(id="")
    assert (error.field, error.message) == ("id", "must not be empty")


def test_unknown_event_field_lists_the_fields_that_exist():
    error = invalid(user="ada")
    assert error.field == "user"
    assert error.message.startswith("is not an event field (id, type, member")


def test_nested_attribute_value_is_refused_naming_the_attribute():
    error = invalid(attributes={"region": {"name": "EMEA"}})
    assert (error.field, error.message) == (
        "attributes.region",
        "must be text, a number, true/false or null",
    )


def test_properties_must_be_an_object():
    error = invalid(properties=[1, 2])
    assert (error.field, error.message) == ("properties", "must be an object")


def test_an_event_must_be_an_object():
    with pytest.raises(InvalidEvent, match="an event must be a JSON object"):
        parse_event(["quiz.passed"])


def test_canonical_form_does_not_depend_on_key_order():
    reordered = dict(reversed(list(VALID.items())))
    assert parse_event(VALID).canonical() == parse_event(reordered).canonical()


def test_unknown_event_type_names_the_type_field_and_suggests_one():
    with pytest.raises(InvalidEvent) as caught:
        run(demo(), [event("quiz.pased")])
    assert caught.value.field == "type"
    assert caught.value.message == (
        "unknown event type 'quiz.pased' in program 'partner' (did you mean 'quiz.passed'?)"
    )


def test_unknown_event_type_far_from_any_type_gets_no_suggestion():
    with pytest.raises(InvalidEvent) as caught:
        run(demo(), [event("zzz")])
    assert caught.value.message == "unknown event type 'zzz' in program 'partner'"


def test_invalid_event_changes_nothing():
    before = run(demo(), [event("quiz.passed")]).state
    snapshot = copy.deepcopy(before)
    with pytest.raises(InvalidEvent):
        evaluate(demo(), before, event("deal.won", properties={"amount_usd": "lots"}))
    assert before == snapshot


def test_evaluate_leaves_the_state_it_was_given_untouched():
    prog = demo()
    state = member(attributes={"region": "EMEA"})
    state = run(
        prog,
        [event("quiz.passed"), event("video.watched", properties={"duration_seconds": 300})],
        state,
    ).state
    snapshot = copy.deepcopy(state)
    evaluation = evaluate(
        prog,
        state,
        event(
            "quiz.passed",
            T0.replace(hour=20),
            attributes={"region": "NA"},
            team="t1",
            company="c1",
        ),
    )
    assert evaluation.state.attributes == {"region": "NA"}
    assert evaluation.state.occurrences["quiz_passed"] != state.occurrences["quiz_passed"]
    assert state == snapshot


@pytest.mark.parametrize(
    "when", ["1970-01-01T00:00:00Z", "2999-12-31T23:59:59Z", "1970-01-01T05:00:00+05:00"]
)
def test_event_time_at_either_end_of_the_accepted_range_is_kept(when: str) -> None:
    assert parse_event({**VALID, "occurred_at": when}).occurred_at.year in (1970, 2999)


@pytest.mark.parametrize(
    "when",
    [
        "1969-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:59:59-00:01",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
    ],
)
def test_event_time_outside_the_accepted_range_is_refused_naming_it(when: str) -> None:
    error = invalid(occurred_at=when)
    assert error.field == "occurred_at"
    assert "between 1970-01-01T00:00:00Z and 2999-12-31T23:59:59Z" in error.message


@pytest.mark.parametrize("number", [10**15 - 1, -(10**15) + 1, 999_999_999_999_999.5, 0.0])
def test_numbers_a_rule_can_use_are_kept(number: float) -> None:
    assert parse_event({**VALID, "properties": {"n": number}}).properties == {"n": number}


@pytest.mark.parametrize("number", [10**15, -(10**15), 1e300, 10**400, float("nan")])
def test_numbers_no_rule_can_use_are_refused_naming_the_property(number: float) -> None:
    error = invalid(properties={"deal": {"amounts": [1, number]}})
    assert error.field == "properties.deal.amounts[1]"


def test_properties_nest_at_most_16_levels() -> None:
    value: Any = 1
    for _ in range(16):
        value = [value]
    assert parse_event({**VALID, "properties": {"x": value}})
    error = invalid(properties={"x": [value]})
    assert error.field.startswith("properties.x[0]")
    assert "16 levels" in error.message
