"""YAML text -> validated Program, with every error named by its path at once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError

from accolade.errors import FieldError, InvalidProgram
from accolade.program.assessment_checks import check_assessments, check_sales_notes
from accolade.program.checks import check_experiment_windows, check_references, did_you_mean
from accolade.program.compile import window_bound
from accolade.program.models import Program, known_keys

# libyaml's parser (in PyYAML's wheels) when present: ~10x faster than the pure-Python one,
# with the same safe constructors and the same error marks.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_program_file(path: Path) -> Program:
    return load_program(read_program_file(path))


def read_program_file(path: Path) -> str:
    """A program file's text, unparsed; InvalidProgram naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidProgram(
            [FieldError(str(path), f"cannot read program file: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise InvalidProgram([FieldError(str(path), "a program file must be UTF-8 text")]) from None


def load_program(text: str) -> Program:
    """Parse and validate a program; raises InvalidProgram listing every problem."""
    try:
        raw = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidProgram([FieldError(where, f"not valid YAML: {problem}")]) from None
    if not isinstance(raw, dict):
        raise InvalidProgram(
            [FieldError("", "a program file must be a mapping with key, name and actions")]
        )
    errors: list[FieldError] = []
    program: Program | None = None
    try:
        program = Program.model_validate(raw)
    except ValidationError as exc:
        errors.extend(_field_error(e) for e in exc.errors())
    errors.extend(check_references(raw))
    errors.extend(check_assessments(raw))
    if program is not None:
        errors.extend(_check_windows(program))
        errors.extend(check_experiment_windows(program))
        errors.extend(check_sales_notes(program))
    if errors:
        raise InvalidProgram(_unique(errors))
    assert program is not None
    return program


def _check_windows(program: Program) -> list[FieldError]:
    """A challenge's window, both ends in the program's zone (or their own offsets), must
    have its end after its start."""
    zone = ZoneInfo(program.timezone)
    return [
        FieldError(f"challenges[{i}].ends", "must be after 'starts'")
        for i, c in enumerate(program.challenges)
        if window_bound(c.ends, zone, end=True) <= window_bound(c.starts, zone, end=False)
    ]


def program_hash(program: Program) -> str:
    """Content hash of the normalised definition: formatting and comments do not change it."""
    canonical = json.dumps(
        program.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


_MESSAGES = {
    "missing": "is required",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "decimal_parsing": "must be a number",
    "decimal_type": "must be a number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "string_pattern_mismatch": "must be lowercase letters, digits and '_', starting with a letter",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    "frozen_instance": "cannot be changed",
}


def _field_error(error: Any) -> FieldError:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        name = str(loc[-1])
        return FieldError(_path(loc), f"unknown key '{name}'{did_you_mean(name, known_keys())}")
    bounds = {
        "greater_than_equal": ("ge", ">="),
        "greater_than": ("gt", ">"),
        "less_than_equal": ("le", "<="),
        "less_than": ("lt", "<"),
    }
    if kind in bounds:
        name, sign = bounds[kind]
        return FieldError(_path(loc), f"must be {sign} {ctx.get(name)}")
    if kind == "literal_error":
        return FieldError(_path(loc), f"must be one of {ctx.get('expected')}")
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "event":
        return FieldError(
            _path(loc), "must start with a letter and use letters, digits, '_', '.', ':' or '-'"
        )
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return FieldError(_path(loc), message)
    # A union reports each alternative; name the field, not pydantic's type tags.
    clean = tuple(p for p in loc if isinstance(p, int) or p not in {"str", "int", "float", "bool"})
    return FieldError(_path(clean), _MESSAGES.get(kind, str(error["msg"]).lower()))


def _unique(errors: list[FieldError]) -> list[FieldError]:
    return list(dict.fromkeys(errors))
