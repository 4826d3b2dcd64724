"""Calendar windows and periods in the program's time zone, as epoch-second bounds and labels."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accolade.engine.windows import calendar_window, month_key, months_back, period_of

NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def window(at: str, kind: str, zone: ZoneInfo = UTC_ZONE) -> tuple[str, str, str]:
    start, end, label = calendar_window(ts(at), kind, zone)
    iso = [datetime.fromtimestamp(x, UTC).isoformat() for x in (start, end)]
    return iso[0], iso[1], label


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("day", ("2026-05-14T00:00:00+00:00", "2026-05-15T00:00:00+00:00", "2026-05-14")),
        ("week", ("2026-05-11T00:00:00+00:00", "2026-05-18T00:00:00+00:00", "2026-W20")),
        ("month", ("2026-05-01T00:00:00+00:00", "2026-06-01T00:00:00+00:00", "2026-05")),
        ("quarter", ("2026-04-01T00:00:00+00:00", "2026-07-01T00:00:00+00:00", "2026-Q2")),
        ("year", ("2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00", "2026")),
    ],
)
def test_calendar_window_bounds_and_label(kind: str, expected: tuple[str, str, str]):
    assert window("2026-05-14T15:30:00+00:00", kind) == expected


def test_fourth_quarter_ends_at_new_year():
    assert window("2026-11-30T12:00:00+00:00", "quarter")[1:] == (
        "2027-01-01T00:00:00+00:00",
        "2026-Q4",
    )


def test_week_label_uses_the_iso_year_at_new_year():
    # Thursday 2026-01-01 is in ISO week 2026-W01, which starts on Monday 2025-12-29.
    assert window("2025-12-30T12:00:00+00:00", "week")[2] == "2026-W01"


def test_day_in_new_york_runs_from_local_midnight_to_local_midnight():
    assert window("2026-01-15T02:00:00+00:00", "day", NEW_YORK) == (
        "2026-01-14T05:00:00+00:00",
        "2026-01-15T05:00:00+00:00",
        "2026-01-14",
    )


def test_spring_forward_day_is_23_hours_long():
    start, end, _ = calendar_window(ts("2026-03-08T12:00:00+00:00"), "day", NEW_YORK)
    assert end - start == 23 * 3600


def test_fall_back_day_is_25_hours_long():
    start, end, _ = calendar_window(ts("2026-11-01T12:00:00+00:00"), "day", NEW_YORK)
    assert end - start == 25 * 3600


def test_month_key_is_the_local_month():
    assert month_key(ts("2026-04-01T02:00:00+00:00"), NEW_YORK) == "2026-03"


def test_once_period_has_no_label_and_no_end():
    start, end, label = period_of(0, "once", UTC_ZONE)
    assert label == ""
    assert start < ts("1900-01-01T00:00:00+00:00") and end > ts("2200-01-01T00:00:00+00:00")


@pytest.mark.parametrize(
    ("repeat", "label"), [("yearly", "2026"), ("quarterly", "2026-Q2"), ("monthly", "2026-05")]
)
def test_repeating_periods_are_labelled(repeat: str, label: str):
    assert period_of(ts("2026-05-14T15:30:00+00:00"), repeat, UTC_ZONE)[2] == label


def test_months_back_crosses_into_the_previous_year():
    assert months_back("2026-02", 4) == ["2026-02", "2026-01", "2025-12", "2025-11"]
