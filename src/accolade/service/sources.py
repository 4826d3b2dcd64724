"""Event files from a product or CRM export: JSON Lines or CSV, streamed a line at a time."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accolade.errors import InvalidEvent, InvalidInput

_TOP_LEVEL = ("id", "type", "member", "team", "company", "occurred_at")


def detect_format(path: Path, given: str | None) -> str:
    if given:
        if given not in ("jsonl", "csv"):
            raise InvalidInput(f"unknown format '{given}': use jsonl or csv", field="format")
        return given
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise InvalidInput(
        f"cannot tell the format of '{path.name}': pass --format jsonl or csv", field="format"
    )


def read_events(path: Path, fmt: str | None = None) -> Iterator[tuple[int, object]]:
    """(line number, event dict or the InvalidEvent that line is) for every event in ``path``."""
    kind = detect_format(path, fmt)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="file")
    return _jsonl(path) if kind == "jsonl" else _csv(path)


def _jsonl(path: Path) -> Iterator[tuple[int, object]]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                line.decode()
            except UnicodeDecodeError as exc:
                yield (
                    number,
                    InvalidEvent(f"is not UTF-8 text (byte {exc.start + 1})", field="line"),
                )
                continue
            yield number, line  # parsed and validated in one step by the ingest service


def _csv(path: Path) -> Iterator[tuple[int, object]]:
    """Columns: id, type, member, team, company, occurred_at; ``properties.X`` and
    ``attributes.X`` columns (numbers and true/false are typed), or a JSON ``properties`` column."""
    # Bytes that are not UTF-8 become lone surrogates, which validation refuses with the
    # column they are in; the other rows are stored.
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            number = reader.line_num
            try:
                yield number, _csv_event(row)
            except InvalidEvent as exc:
                yield number, exc


def _csv_event(row: dict[str, str | None]) -> dict[str, Any]:
    event: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for column, raw in row.items():
        if column is None:
            raise InvalidEvent("the row has more values than the header has columns", field="line")
        value = (raw or "").strip()
        if not value:
            continue
        if column in _TOP_LEVEL:
            event[column] = value
        elif column in ("properties", "attributes"):
            try:
                decoded = json.loads(value)
            except json.JSONDecodeError:
                raise InvalidEvent("must be a JSON object", field=column) from None
            (properties if column == "properties" else attributes).update(
                decoded if isinstance(decoded, dict) else {}
            )
        elif column.startswith("properties."):
            properties[column.removeprefix("properties.")] = typed_value(value)
        elif column.startswith("attributes."):
            attributes[column.removeprefix("attributes.")] = typed_value(value)
        else:
            raise InvalidEvent(
                "unknown column: use id, type, member, team, company, occurred_at, "
                "properties.NAME or attributes.NAME",
                field=column,
            )
    if properties:
        event["properties"] = properties
    if attributes:
        event["attributes"] = attributes
    return event


def typed_value(value: str) -> str | int | float | bool:
    """A value written as text (a CSV cell, a command-line NAME=VALUE) as JSON would type it:
    true/false, an integer, a finite number, else the text as it is."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    # "inf" and "nan" are words in a spreadsheet, not numbers JSON could store.
    return number if math.isfinite(number) else value
