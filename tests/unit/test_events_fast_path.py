"""The fast path of event validation (orjson and hand checks) against the reference (pydantic):
the same event, the same stored body, the same error naming the same field, for any input."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accolade.engine.events import (
    MAX_DEPTH,
    NUMBER_LIMIT,
    Event,
    parse_event,
    plain_event,
    validate_event,
)
from accolade.errors import InvalidEvent

USUAL = (
    b'{"id":"evt-1","member":"partner-1","company":"company-1","team":"team-1",'
    b'"occurred_at":"2026-01-05T08:00:09Z","type":"lead.registered",'
    b'"properties":{"lead":"lead-1","qualified":true,"amount":12.5}}\n'
)


def outcome(validate: Any, data: object) -> tuple[object, ...]:
    """What a sender sees of validating ``data``: the event and its stored body, or the error."""
    try:
        event: Event = validate(data)
    except InvalidEvent as exc:
        return ("rejected", exc.field, exc.message)
    return (
        "accepted",
        event.canonical(),
        event.model_dump_json(exclude_defaults=True),
        event.model_dump(),
        event.model_fields_set,
        event.__pydantic_extra__,
        event.__pydantic_private__,
        event.occurred_at.tzinfo,
        [(k, type(v)) for k, v in event.properties.items()],
        [(k, type(v)) for k, v in event.attributes.items()],
    )


usual_texts = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=6
)
odd_texts = st.one_of(
    st.sampled_from(["", "x" * 100, "x" * 101, "x" * 200, "x" * 201]),
    st.text(st.characters(codec="utf-8"), min_size=99, max_size=101),
    st.text(st.characters(codec="utf-8"), min_size=199, max_size=201),
    st.text(st.characters(codec="utf-8"), max_size=4).map(lambda t: t + "\x00"),
    st.text(max_size=3).map(lambda t: t + "\ud800"),
)
usual_numbers = st.one_of(
    st.integers(-1000, 10**6),
    st.floats(-1e6, 1e6),
    st.sampled_from([NUMBER_LIMIT - 1, -NUMBER_LIMIT + 1, 999999999999999.9, -0.0, 1e-7, 0.1]),
)
odd_numbers = st.one_of(
    st.integers(-(10**16), 10**16),
    st.sampled_from([NUMBER_LIMIT, -NUMBER_LIMIT, 2**64, -(2**70), 1e15, 1e300]),
    st.floats(),
)
usual_scalars = st.one_of(st.none(), st.booleans(), usual_numbers, usual_texts)
odd_scalars = st.one_of(odd_numbers, odd_texts)
usual_keys = st.sampled_from(["a", "b", "lead", "A", ""]) | usual_texts
usual_values = st.recursive(
    usual_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(usual_keys, inner, max_size=3),
    max_leaves=8,
)
usual_times = st.one_of(
    st.datetimes(datetime(1971, 1, 1), datetime(2998, 12, 31), timezones=st.timezones()).map(
        lambda t: t.isoformat()
    ),
    st.datetimes(datetime(1971, 1, 1), datetime(2998, 12, 31)).map(
        lambda t: (
            t.isoformat(timespec=["seconds", "milliseconds", "microseconds"][t.second % 3]) + "Z"
        )
    ),
)
odd_times = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.datetimes().map(lambda t: t.isoformat()),
    st.builds(
        lambda y, frac, zone: f"{y:04d}-03-02T09:00:00{frac}{zone}",
        st.sampled_from([1, 1969, 1970, 2026, 2999, 3000, 9999]),
        st.sampled_from(["", ".5", ".123456", ".1234567", ",5"]),
        st.sampled_from(["Z", "z", "+00:00", "-05:00", "+14:00", "+23:59", "+24:00", "-00:00", ""]),
    ),
    st.sampled_from(
        [
            "2026-03-02 09:00:00Z",
            "2026-03-02t09:00:00z",
            "2026-02-30T09:00:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T09:00:60Z",
            "2026-W10-1T09:00:00Z",
            "20260302T090000Z",
            "2026-03-02T09:00Z",
            "2026-03-02",
            "\uff11\uff19\uff17\uff10-01-01T00:00:00Z",
            "1970-01-01T00:00:00+00:01",
            "1970-01-01T00:00:00Z",
            "2999-12-31T23:59:59Z",
            "2999-12-31T23:59:59.000001Z",
            "1969-12-31T23:59:59.999999Z",
            "yesterday",
        ]
    ),
    st.integers(),
    usual_scalars,
)


def nested(depth: int) -> object:
    value: object = 1
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


def with_one(values: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
    """A list or object of usual values with one odd value somewhere inside."""
    return st.builds(
        lambda items, key, value, deep: (
            {**items, key: value} if deep % 2 else {"x": [{**items, key: value}]}
        ),
        st.dictionaries(usual_keys, values, max_size=3),
        usual_keys | odd_texts,
        odd,
        st.integers(0, 1),
    )


FIELDS = ("id", "type", "member", "team", "company", "occurred_at", "properties", "attributes")
ODD = {
    "id": odd_texts | usual_scalars,
    "type": odd_texts | usual_scalars,
    "member": odd_texts | usual_scalars,
    "team": odd_texts | usual_scalars,
    "company": odd_texts | usual_scalars,
    "occurred_at": odd_times,
    "properties": st.one_of(
        with_one(usual_values, odd_scalars | usual_values),
        st.builds(lambda d: {"deep": nested(d)}, st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2)),
        usual_values,
    ),
    "attributes": st.one_of(
        st.dictionaries(usual_keys | odd_texts, odd_scalars | usual_values, max_size=2),
        usual_values,
    ),
}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event document, then zero, one or two of its fields missing, null, of another
    kind or out of range, or a field that is not an event's."""
    document: dict[str, Any] = {
        "id": draw(st.sampled_from(["e1", "evt-2026-0000001"]) | usual_texts),
        "type": draw(st.just("quiz.passed") | usual_texts),
        "member": draw(st.just("ada") | usual_texts),
        "occurred_at": draw(st.just("2026-03-02T09:00:00Z") | usual_times),
    }
    for name in ("team", "company"):
        if draw(st.booleans()):
            document[name] = draw(st.none() | usual_texts)
    if draw(st.booleans()):
        document["properties"] = draw(st.dictionaries(usual_keys, usual_values, max_size=4))
    if draw(st.booleans()):
        document["attributes"] = draw(st.dictionaries(usual_keys, usual_scalars, max_size=3))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(FIELDS))
        change = draw(st.sampled_from(["odd", "odd", "odd", "missing", "null", "extra"]))
        if change == "odd":
            document[name] = draw(ODD[name])
        elif change == "missing":
            document.pop(name, None)
        elif change == "null":
            document[name] = None
        else:
            document[draw(st.sampled_from(["user", "Id", "extra"]))] = 1
    return dict(draw(st.permutations(list(document.items()))))


def json_text(document: object, ascii_only: bool) -> str:
    return json.dumps(document, ensure_ascii=ascii_only, separators=(",", ":"))


@st.composite
def raw_documents(draw: st.DrawFn) -> object:
    """What a sender may send: a decoded document, or its JSON (bytes or text), now and then
    damaged, with a duplicated key or a top level that is not an object."""
    document: object = draw(documents() | st.just(USUAL) | usual_values)
    if isinstance(document, bytes) or draw(st.integers(0, 4)) == 0:
        return document
    text = json_text(document, draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(text)))
        insert = draw(st.sampled_from(["", "}", ",", '"', "\\", "\x00", "\x01", " ", "\ufeff"]))
        text = text[:cut] + insert + text[cut:]
    if draw(st.integers(0, 9)) == 0 and text.startswith('{"'):
        text = '{"id":"dup",' + text[1:]
    if draw(st.booleans()):
        try:
            return text.encode() + draw(st.sampled_from([b"", b"\n", b"\r\n", b" "]))
        except UnicodeEncodeError:
            return text
    return text


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_documents())
@example(USUAL)
@example(b'{"id":"e1","type":"t","member":"m","occurred_at":"2026-03-02T09:00:00Z","id":"e2"}')
@example(
    '{"id":"e1","type":"t","member":"m","occurred_at":"2026-03-02T09:00:00Z","properties":{"a":"\\u0000"}}'
)
@example(
    '{"id":"e1","type":"t","member":"m","occurred_at":"2026-03-02T09:00:00Z","properties":{"a":"\\ud800"}}'
)
@example(
    '{"id":"e1","type":"t","member":"m","occurred_at":"2026-03-02T09:00:00Z","properties":{"a":NaN}}'
)
@example(
    '{"id":"e1","type":"t","member":"m","occurred_at":"2026-03-02T09:00:00Z","properties":{"a":1e400}}'
)
@example(
    '{"id":"e1","type":"t","member":"m","occurred_at":"2026-03-02T09:00:00Z","properties":{"a":123456789012345678901234567890}}'
)
def test_fast_path_matches_the_reference_for_any_input(data: object) -> None:
    assert outcome(parse_event, data) == outcome(validate_event, data)


@settings(max_examples=500, deadline=None)
@given(documents())
def test_fast_path_never_accepts_what_the_reference_refuses(document: dict[str, Any]) -> None:
    for data in (document, json_text(document, True)):
        if plain_event(data) is not None:
            assert outcome(validate_event, data)[0] == "accepted"


def test_usual_events_take_the_fast_path() -> None:
    document = json.loads(USUAL)
    for data in (USUAL, USUAL.decode(), document):
        assert plain_event(data) is not None
        assert outcome(plain_event, data) == outcome(validate_event, data)


def test_numbers_at_the_limit_are_left_to_the_reference() -> None:
    document = {**json.loads(USUAL), "properties": {"n": NUMBER_LIMIT}}
    assert plain_event(document) is None
    assert plain_event({**document, "properties": {"n": math.nan}}) is None
    assert outcome(parse_event, document) == (
        "rejected",
        "properties.n",
        outcome(parse_event, document)[2],
    )


BASE = {"id": "e1", "type": "quiz.passed", "member": "ada", "occurred_at": "2026-03-02T09:00:00Z"}
BOUNDARIES: list[tuple[str, object]] = [
    *[
        (name, value)
        for name in ("id", "type", "member", "team", "company")
        for value in ["", "x" * 100, "x" * 101, "x" * 200, "x" * 201, "a\x00", "a\ud800", 1, None]
    ],
    *[
        ("occurred_at", f"{y:04d}-03-02T09:00:00{frac}{zone}")
        for y in (1, 1969, 1970, 2999, 3000, 9999)
        for frac in ("", ".5", ".123456", ".1234567", ",5")
        for zone in ("Z", "z", "+00:00", "-05:00", "+23:59", "+24:00", "-00:00", "")
    ],
    *[
        ("occurred_at", value)
        for value in [
            "2026-03-02 09:00:00Z",
            "2026-03-02t09:00:00Z",
            "2026-02-30T09:00:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T09:00:60Z",
            "2026-W10-1T09:00:00Z",
            "20260302T090000Z",
            "2026-03-02T09:00Z",
            "2026-03-02",
            "\uff11\uff19\uff17\uff10-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00+00:01",
            "1969-12-31T23:00:00-01:00",
            "2999-12-31T23:59:59Z",
            "2999-12-31T23:59:59.000001Z",
            "3000-01-01T00:59:59+01:00",
            1700000000,
            1.5,
            None,
        ]
    ],
    *[("properties", {"deep": nested(depth)}) for depth in range(MAX_DEPTH - 2, MAX_DEPTH + 3)],
    *[
        (name, {"n": number})
        for name in ("properties", "attributes")
        for number in [
            NUMBER_LIMIT - 1,
            NUMBER_LIMIT,
            -NUMBER_LIMIT + 1,
            -NUMBER_LIMIT,
            2**64,
            1e15,
            999999999999999.9,
            -1e15,
            math.nan,
            math.inf,
            -0.0,
            True,
        ]
    ],
    *[
        (name, value)
        for name in ("properties", "attributes")
        for value in [
            {"a\x00": 1},
            {"a\ud800": 1},
            {"a": "b\x00"},
            {"a": ["b\ud800"]},
            {"a": [1]},
            {"a": {}},
            {"a": {"b": [1, {"c": "\x00"}]}},
            {"": None},
            [],
            "x",
            None,
        ]
    ],
    ("user", 1),
]


@pytest.mark.parametrize(("name", "value"), BOUNDARIES)
def test_fast_path_matches_the_reference_at_each_boundary(name: str, value: object) -> None:
    document = {**BASE, name: value}
    encodings: list[object] = [document, json_text(document, True).encode()]
    try:
        encodings.append(json_text(document, False).encode() + b"\n")
    except UnicodeEncodeError:
        encodings.append(json_text(document, False))
    for data in encodings:
        assert outcome(parse_event, data) == outcome(validate_event, data), data


any_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-NUMBER_LIMIT + 1, NUMBER_LIMIT - 1)
    | st.floats(-1e15, 1e15, exclude_min=True, exclude_max=True)
    | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=2000, deadline=None)
@given(
    properties=st.dictionaries(any_text, any_json, max_size=4),
    attributes=st.dictionaries(any_text, any_json.filter(lambda v: not isinstance(v, dict | list))),
    team=st.none() | any_text.filter(bool),
    time=usual_times,
)
def test_stored_body_is_pydantics_json_of_the_event(
    properties: dict[str, Any], attributes: dict[str, Any], team: str | None, time: str
) -> None:
    event = parse_event(
        {
            **BASE,
            "team": team,
            "occurred_at": time,
            "properties": properties,
            "attributes": attributes,
        }
    )
    assert event.canonical() == event.model_dump_json(exclude_defaults=True)


def test_stored_body_of_values_json_lacks_is_pydantics_json() -> None:
    for odd in ({"a": (1, 2)}, {"a": {1: "one"}}, {"a": {"b", "c"}}):
        event = validate_event({**BASE, "properties": odd})
        assert event.canonical() == event.model_dump_json(exclude_defaults=True)
