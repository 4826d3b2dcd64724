"""The event a host product or CRM sends, validated, with errors naming the field."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

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

    @field_validator("properties", "attributes")
    @classmethod
    def _finite(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        for key, item in value.items():
            if not _finite(item):
                # Not a ValueError: pydantic lets it through, with the field path it names.
                raise InvalidEvent(
                    "must be a finite number (NaN and Infinity cannot be stored)",
                    field=f"{info.field_name}.{key}",
                )
        # Sorted, so that the canonical body does not depend on the sender's key order.
        return dict(sorted(value.items()))

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def ts(self) -> int:
        """Event time as whole seconds since the epoch: the unit of windows and cooldowns."""
        return int(self.occurred_at.timestamp())

    def canonical(self) -> str:
        """Normalised JSON body (UTC time, sorted properties): the stored form, and what
        idempotency compares."""
        return self.model_dump_json(exclude_defaults=True)


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def body_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


_MESSAGES = {
    "missing": "is required",
    "timezone_aware": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "datetime_parsing": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "datetime_from_date_parsing": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "datetime_type": "must be an ISO 8601 time with an offset, e.g. 2026-11-23T09:30:00Z",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long",
    "dict_type": "must be an object",
    "model_type": "an event must be a JSON object",
    "extra_forbidden": "is not an event field (id, type, member, team, company, occurred_at, "
    "properties, attributes)",
}


def parse_event(data: object) -> Event:
    """Validate one event (a dict, or its JSON text); raises InvalidEvent naming the first bad field."""
    try:
        if isinstance(data, str | bytes):
            return Event.model_validate_json(data)
        if not isinstance(data, dict):
            raise InvalidEvent("an event must be a JSON object", field="")
        return Event.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "json_invalid":
            detail = (error.get("ctx") or {}).get("error", "")
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
