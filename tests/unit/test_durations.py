"""Durations in programs: ``30d``, ``1h30m`` or whole seconds, and their shortest spelling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accolade.program.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("10m", 600),
        ("12h", 43_200),
        ("30d", 2_592_000),
        ("2w", 1_209_600),
        ("1h30m", 5_400),
        (" 1h 30m ", 5_400),
        (3600, 3600),
    ],
)
def test_duration_text_is_read_as_seconds(text: object, seconds: int):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "10", "1x", "1.5h", "-1h", "1h30", "ten minutes"])
def test_text_that_is_not_a_duration_is_rejected(text: str):
    with pytest.raises(ValueError, match="is not a duration such as 30d, 12h or 10m"):
        parse_duration(text)


@pytest.mark.parametrize("value", [0, -5, "0h"])
def test_zero_or_negative_duration_is_rejected(value: object):
    with pytest.raises(ValueError, match="must be longer than zero"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, 1.5, None])
def test_booleans_and_fractions_are_not_durations(value: object):
    with pytest.raises(ValueError, match="must be a duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"), [(86_400, "1d"), (5_400, "1h30m"), (604_800, "1w"), (61, "1m1s")]
)
def test_seconds_are_written_in_their_shortest_form(seconds: int, text: str):
    assert format_duration(seconds) == text


@given(st.integers(min_value=1, max_value=10**9))
def test_formatting_then_parsing_a_duration_gives_it_back(seconds: int):
    assert parse_duration(format_duration(seconds)) == seconds
