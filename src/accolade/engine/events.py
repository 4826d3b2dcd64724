"""The event a host product or CRM sends, validated, with errors naming the field."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from accolade.errors import InvalidEvent

EVENT_SCHEMA_VERSION = 1
AttributeValue = str | int | float | bool | None

# The accepted range of event time: years a window, a streak or a leaderboard day can be
# computed for in any time zone, with non-negative epoch seconds.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
# Numbers a rule can use exactly (points, sums, money in minor units): |x| below 10^15.
NUMBER_LIMIT = 10**15
# Levels of objects and lists inside properties (an object in properties is level 1).
MAX_DEPTH = 16


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)
    member: str = Field(min_length=1, max_length=200)
    team: str | None = Field(default=None, min_length=1, max_length=200)
    company: str | None = Field(default=None, min_length=1, max_length=200)
    occurred_at: AwareDatetime
    properties: dict[str, Any] = Field(default_factory=dict)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @field_validator("id", "type", "member", "team", "company")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            check_text(value, str(info.field_name))
        return value

    @field_validator("properties", "attributes")
    @classmethod
    def _storable(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # Raises InvalidEvent, not a ValueError: pydantic lets it through, with its field path.
        check_value(value, str(info.field_name), 0)
        # Sorted, so that the canonical body does not depend on the sender's key order.
        return dict(sorted(value.items()))

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        try:
            utc = value.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 shifted past the calendar by its offset
            utc = EARLIEST - timedelta(seconds=1)
        if not EARLIEST <= utc <= LATEST:
            raise InvalidEvent(
                "must be between 1970-01-01T00:00:00Z and 2999-12-31T23:59:59Z",
                field="occurred_at",
            )
        return utc

    @property
    def ts(self) -> int:
        """Event time as whole seconds since the epoch: the unit of windows and cooldowns."""
        return int(self.occurred_at.timestamp())

    def canonical(self) -> str:
        """Normalised JSON body (UTC time, sorted properties): the stored form, and what
        idempotency compares. Written by orjson, a quarter of pydantic's cost, in the same
        text as ``model_dump_json(exclude_defaults=True)`` (the reference, which a property
        test compares it with)."""
        body: dict[str, object] = {"id": self.id, "type": self.type, "member": self.member}
        if self.team is not None:
            body["team"] = self.team
        if self.company is not None:
            body["company"] = self.company
        body["occurred_at"] = self.occurred_at
        if self.properties:
            body["properties"] = self.properties
        if self.attributes:
            body["attributes"] = self.attributes
        try:
            return orjson.dumps(body, option=orjson.OPT_UTC_Z).decode()
        except TypeError:  # a value JSON has no type for (a set, a key that is not text)
            return self.model_dump_json(exclude_defaults=True)


def check_text(value: str, field: str) -> None:
    """Text every database stores alike: no NUL character (PostgreSQL refuses it) and no
    lone surrogate (it has no UTF-8 form)."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidEvent(problem, field=field)


NUL_IN_TEXT = "must not contain the NUL character (\\u0000)"
NOT_UNICODE = "must be valid Unicode text (a lone surrogate such as \\ud800 is not)"


def text_problem(value: str) -> str | None:
    """Why ``value`` is not text every database stores alike, or None."""
    if "\x00" in value:
        return NUL_IN_TEXT
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return NOT_UNICODE
    return None


def check_value(value: object, field: str, depth: int) -> None:
    """Every key and value of a JSON value stored as it came: storable text, numbers a rule
    can use, at most MAX_DEPTH levels of objects and lists."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidEvent(
                "must be a finite number (NaN and Infinity cannot be stored)", field=field
            )
        if not -NUMBER_LIMIT < value < NUMBER_LIMIT:
            raise InvalidEvent("must be a number between -10^15 and 10^15", field=field)
    elif isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise InvalidEvent(
                f"nests more than {MAX_DEPTH} levels of objects and lists", field=field
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                path = f"{field}.{key}"
                problem = text_problem(key)
                if problem is not None:  # named as JSON escapes it, for it is not storable text
                    raise InvalidEvent(problem, field=f"{field}.{json.dumps(key)[1:-1]}")
            else:
                path = f"{field}[{key}]"
            check_value(item, path, depth + 1)


def body_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


_MESSAGES = {
    "missing": "is required",
    "timezone_aware": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "datetime_parsing": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "datetime_from_date_parsing": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "datetime_type": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "string_type": "must be text",
    "string_unicode": NOT_UNICODE,
    "string_too_short": "must not be empty",
    "string_too_long": "is too long",
    "dict_type": "must be an object",
    "model_type": "an event must be a JSON object",
    "extra_forbidden": "is not an event field (id, type, member, team, company, occurred_at, "
    "properties, attributes)",
}


def parse_event(data: object) -> Event:
    """Validate one event (a dict, or its JSON text); raises InvalidEvent naming the first bad field.

    Events in the usual form are decoded by orjson and checked by hand (``plain_event``), about
    five times as fast as pydantic; any other input, valid or not, goes through ``validate_event``,
    which stays the reference: same events, same stored body, same error naming the same field.
    """
    event = plain_event(data)
    return validate_event(data) if event is None else event


def validate_event(data: object) -> Event:
    """The reference validation (pydantic), with the error naming the first bad field."""
    try:
        if isinstance(data, str | bytes):
            return Event.model_validate_json(data)
        if not isinstance(data, dict):
            raise InvalidEvent("an event must be a JSON object", field="")
        return Event.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "json_invalid":
            detail = str((error.get("ctx") or {}).get("error", ""))
            if "hex escape" in detail and isinstance(data, str | bytes):
                # JSON that escapes a lone surrogate: the standard parser reads it, so that
                # validation can name the field it is in.
                try:
                    decoded = json.loads(data)
                except (ValueError, RecursionError):
                    decoded = None
                if isinstance(decoded, dict):
                    return validate_event(decoded)
            if "recursion limit" in detail:
                detail = "it nests objects and lists too deeply"
            raise InvalidEvent(f"not valid JSON: {detail}".rstrip(": "), field="line") from None
        loc = [str(p) for p in error["loc"] if p not in ("str", "int", "float", "bool", "none")]
        field = ".".join(loc)
        if loc and loc[0] == "attributes" and len(loc) > 1:
            message = "must be text, a number, true/false or null"
        elif error["type"] == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
        else:
            message = _MESSAGES.get(error["type"], str(error["msg"]).lower())
        raise InvalidEvent(message, field=field) from None


# The usual event time: what the fast path parses itself (datetime.fromisoformat reads it as
# pydantic does); any other form pydantic accepts goes the reference way.
_PLAIN_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)
_FIELDS = frozenset(Event.model_fields)


def plain_event(data: object) -> Event | None:
    """The Event ``validate_event`` returns for ``data`` if it is valid and in the usual form
    (exact JSON types, time as ``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)``); None for anything
    else, so that the reference names what is wrong. Never accepts what the reference refuses."""
    if isinstance(data, bytes | str):
        # orjson refuses lone surrogates and raw control characters, so every string it
        # returns is storable text unless the document escapes a NUL.
        if isinstance(data, bytes) and b"\\u0000" in data:
            return None
        if isinstance(data, str) and "\\u0000" in data:
            return None
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        text_checked = True
    elif type(data) is dict:
        decoded, text_checked = data, False
    else:
        return None
    if type(decoded) is not dict or not decoded.keys() <= _FIELDS:
        return None
    get = decoded.get
    event_id, event_type, member = get("id"), get("type"), get("member")
    team, company = get("team"), get("company")
    if not (
        type(event_id) is str
        and 0 < len(event_id) <= 200
        and type(event_type) is str
        and 0 < len(event_type) <= 100
        and type(member) is str
        and 0 < len(member) <= 200
        and (team is None or (type(team) is str and 0 < len(team) <= 200))
        and (company is None or (type(company) is str and 0 < len(company) <= 200))
    ):
        return None
    if not text_checked and any(
        text_problem(t) is not None for t in (event_id, event_type, member, team, company) if t
    ):
        return None
    occurred_at = _plain_time(get("occurred_at"))
    properties = get("properties", _EMPTY)
    attributes = get("attributes", _EMPTY)
    if (
        occurred_at is None
        or type(properties) is not dict
        or type(attributes) is not dict
        or not _plain_value(properties, 0, text_checked)
        or not _plain_attributes(attributes, text_checked)
    ):
        return None
    # What Event.model_construct does, less its per-field loop over aliases and defaults
    # (five times the cost of the rest of this function); the property test compares the two.
    event = _new_event(Event)
    _set(
        event,
        "__dict__",
        {
            "id": event_id,
            "type": event_type,
            "member": member,
            "team": team,
            "company": company,
            "occurred_at": occurred_at,
            "properties": dict(sorted(properties.items())),
            "attributes": dict(sorted(attributes.items())),
        },
    )
    _set(event, "__pydantic_fields_set__", set(decoded))
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


_new_event = object.__new__
_set = object.__setattr__
_EMPTY: dict[str, Any] = {}


def _plain_time(value: object) -> datetime | None:
    if type(value) is not str or _PLAIN_TIME.fullmatch(value) is None:
        return None
    try:
        utc = datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return utc if EARLIEST <= utc <= LATEST else None


def _plain_value(container: dict[Any, Any] | list[Any], depth: int, text_checked: bool) -> bool:
    """True if check_value accepts ``container`` (at ``depth``), in one pass over it; False
    for anything unusual (a key that is not text, a type JSON does not have)."""
    if depth > MAX_DEPTH:
        return False
    if type(container) is dict:
        if not text_checked:
            for key in container:
                if type(key) is not str or text_problem(key) is not None:
                    return False
        items: Iterable[Any] = container.values()
    else:
        items = container
    for item in items:
        kind = type(item)
        if kind is str:
            if not text_checked and text_problem(item) is not None:
                return False
        elif kind is int or kind is float:
            if not -NUMBER_LIMIT < item < NUMBER_LIMIT:
                return False
        elif kind is dict or kind is list:
            if not _plain_value(item, depth + 1, text_checked):
                return False
        elif kind is not bool and item is not None:
            return False
    return True


def _plain_attributes(attributes: dict[Any, Any], text_checked: bool) -> bool:
    for key, item in attributes.items():
        if type(key) is not str or (not text_checked and text_problem(key) is not None):
            return False
        kind = type(item)
        if kind is str:
            if not text_checked and text_problem(item) is not None:
                return False
        elif kind is int or kind is float:
            if not -NUMBER_LIMIT < item < NUMBER_LIMIT:
                return False
        elif kind is not bool and item is not None:
            return False
    return True
