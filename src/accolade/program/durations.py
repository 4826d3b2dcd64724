"""Durations (``30d``, ``10m``, ``1h30m``) and calendar windows (``day`` .. ``year``) in programs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

CalendarWindow = Literal["day", "week", "month", "quarter", "year"]
CALENDAR_WINDOWS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(value: object) -> int:
    """Seconds in ``value``: a positive integer of seconds or a string like ``1h30m``."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30d, 12h or 10m")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"'{value}' is not a duration such as 30d, 12h or 10m")
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise ValueError("must be a duration such as 30d, 12h or 10m")
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest text for ``seconds`` (``86400`` -> ``1d``), inverse of parse_duration."""
    out = []
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"


Duration = Annotated[
    int, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]


def date_or_time(value: object) -> object:
    """A window's bound as a program file gives it: a text with a time is a time, even at
    midnight; a bare date is a whole day (left for pydantic to read as a date)."""
    if isinstance(value, str) and len(value.strip()) > 10:
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"'{value}' is neither a date (2026-09-30) nor a time (2026-09-30T18:00:00)"
            ) from None
    return value
