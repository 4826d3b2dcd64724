"""What changed between two programs, in words: the rule changes a program owner reviews before
publishing a version. Pure: two validated `Program` models in, a list of `Change` out."""

from __future__ import annotations

import json
from dataclasses import dataclass

from accolade.program.models import Program

# A value of a program's JSON dump (what before/after hold): None, bool, int, float, str, or a
# list or dict of those. Typed as object: the comparison only tests equality and renders it.
Value = object

_TEXT_WIDTH = 120  # a longer value is cut in the text (before/after keep it whole)


@dataclass(frozen=True)
class Change:
    """One change. ``section`` is the program's top-level key (``actions``, ``timezone``);
    ``key`` the item's key in a keyed list (None for a top-level scalar or object); ``field``
    the path inside the item or object (``points``, ``limits.cap.count``, ``steps['watch']``),
    None when the whole item or value was added, removed or replaced. ``before`` or ``after``
    is None when there was nothing there."""

    section: str
    key: str | None
    field: str | None
    before: Value
    after: Value
    text: str


def diff_programs(before: Program, after: Program) -> list[Change]:
    """Every change from ``before`` to ``after``, in the order of the program's sections.

    Keyed lists (every item has a ``key``: actions, badges, tiers, quests, ...) are compared
    item by item, matched by key: their order does not count. Other lists are compared whole."""
    old = _dump(before)
    new = _dump(after)
    sections = [*new, *(s for s in old if s not in new)]
    changes: list[Change] = []
    for section in sections:
        b, a = old.get(section), new.get(section)
        if _keyed(b, a):
            changes += _section_changes(section, _by_key(b), _by_key(a))
        else:
            changes += [_change(section, None, field, x, y) for field, x, y in _compare(b, a, None)]
    return changes


def _dump(program: Program) -> dict[str, Value]:
    dumped = _without_none(program.model_dump(mode="json", by_alias=True))
    assert isinstance(dumped, dict)
    return dumped


def _without_none(value: Value) -> Value:
    """The dump with unset (None) keys left out, so a missing key and a null one compare equal."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _keyed(*values: Value) -> bool:
    """Whether the values are keyed lists (None or an empty list go with any list)."""
    items: list[Value] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, list):
            return False
        items += value
    return bool(items) and all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in items)


def _by_key(items: Value) -> dict[str, Value]:
    assert items is None or isinstance(items, list)
    return {str(item["key"]): item for item in items or []}


def _section_changes(section: str, old: dict[str, Value], new: dict[str, Value]) -> list[Change]:
    changes: list[Change] = []
    for key, item in old.items():
        if key not in new:
            changes.append(_change(section, key, None, item, None))
            continue
        changes += [_change(section, key, f, x, y) for f, x, y in _compare(item, new[key], None)]
    changes += [
        _change(section, key, None, None, item) for key, item in new.items() if key not in old
    ]
    return changes


def _compare(
    before: Value, after: Value, path: str | None
) -> list[tuple[str | None, Value, Value]]:
    """(path, before, after) for every leaf that differs; objects are followed key by key,
    keyed lists item by item, and anything else is one value."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[tuple[str | None, Value, Value]] = []
        for name in [*before, *(k for k in after if k not in before)]:
            out += _compare(before.get(name), after.get(name), _join(path, name))
        return out
    if isinstance(before, list) and isinstance(after, list) and _keyed(before, after):
        old, new = _by_key(before), _by_key(after)
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            out += _compare(old.get(key), new.get(key), f"{path or ''}[{key!r}]")
        return out
    return [(path, before, after)]


def _join(path: str | None, name: str) -> str:
    return name if path is None else f"{path}.{name}"


def _singular(section: str) -> str:
    """The word for one item of a section: ``actions`` -> ``action``, ``entries`` -> ``entry``."""
    if section.endswith("ies"):
        return section[:-3] + "y"
    return section.removesuffix("s")


def _change(
    section: str, key: str | None, field: str | None, before: Value, after: Value
) -> Change:
    return Change(section, key, field, before, after, _text(section, key, field, before, after))


def _text(section: str, key: str | None, field: str | None, before: Value, after: Value) -> str:
    subject = f"{_singular(section)} {key!r}" if key is not None else section
    where = subject if field is None else f"{subject}: {field}"
    if before is None:
        return (
            f"{where} added"
            if field is None and key is not None
            else f"{where} added: {_show(after)}"
        )
    if after is None:
        return (
            f"{where} removed"
            if field is None and key is not None
            else f"{where} removed (was {_show(before)})"
        )
    separator = ":" if field is None else ""
    return f"{where}{separator} {_show(before)} → {_show(after)}"


def _show(value: Value) -> str:
    if isinstance(value, str):
        shown = repr(value)
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, int | float):
        shown = str(value)
    else:
        shown = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return shown if len(shown) <= _TEXT_WIDTH else shown[: _TEXT_WIDTH - 1] + "…"
