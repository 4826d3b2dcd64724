"""Calendar windows and periods in the program's time zone; instants stay UTC epoch seconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# Every UTC offset in the tz database, and every change of one, falls on a quarter hour, so
# the local date is constant inside each UTC quarter hour: cache it per quarter.
_QUARTER_HOUR = 900


@lru_cache(maxsize=65_536)
def _local_ordinal(quarter: int, zone: ZoneInfo) -> int:
    return datetime.fromtimestamp(quarter * _QUARTER_HOUR, zone).toordinal()


def _epoch(year: int, month: int, day: int, zone: ZoneInfo) -> int:
    return int(datetime(year, month, day, tzinfo=zone).timestamp())


@lru_cache(maxsize=65_536)
def _day_bounds(ordinal: int, window: str, zone: ZoneInfo) -> tuple[int, int, str]:
    day = datetime.fromordinal(ordinal)
    if window == "day":
        start = day
        end = day + timedelta(days=1)
        label = day.strftime("%Y-%m-%d")
    elif window == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
        iso = start.isocalendar()
        label = f"{iso.year}-W{iso.week:02d}"
    elif window == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        label = start.strftime("%Y-%m")
    elif window == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        start = day.replace(month=first, day=1)
        end = (start + timedelta(days=95)).replace(day=1)
        label = f"{day.year}-Q{(first - 1) // 3 + 1}"
    elif window == "year":
        start = day.replace(month=1, day=1)
        end = start.replace(year=start.year + 1)
        label = str(day.year)
    else:
        raise ValueError(f"unknown calendar window {window!r}")
    return (
        _epoch(start.year, start.month, start.day, zone),
        _epoch(end.year, end.month, end.day, zone),
        label,
    )


def calendar_window(ts: int, window: str, zone: ZoneInfo) -> tuple[int, int, str]:
    """[start, end) in epoch seconds of the calendar ``window`` holding ``ts``, and its label."""
    return _day_bounds(_local_ordinal(ts // _QUARTER_HOUR, zone), window, zone)


PERIOD_WINDOW = {"yearly": "year", "quarterly": "quarter", "monthly": "month"}


def period_of(ts: int, repeat: str, zone: ZoneInfo) -> tuple[int, int, str]:
    """Bounds and label of a badge's award period; a once-only badge has one endless period."""
    if repeat == "once":
        return (-(2**62), 2**62, "")
    return calendar_window(ts, PERIOD_WINDOW[repeat], zone)


def month_key(ts: int, zone: ZoneInfo) -> str:
    return calendar_window(ts, "month", zone)[2]


def months_back(label: str, count: int) -> list[str]:
    """The ``count`` month labels ending with ``label`` ("2026-11", 3 -> Sep, Oct, Nov)."""
    year, month = int(label[:4]), int(label[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out


def local_ordinal(ts: int, zone: ZoneInfo) -> int:
    """The local calendar date at ``ts`` as a proleptic ordinal (1 is Monday, 0001-01-01)."""
    return _local_ordinal(ts // _QUARTER_HOUR, zone)
