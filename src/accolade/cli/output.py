"""Where every `accolade` command writes: the consoles for tables and errors, and JSON in the
API's shape for `--json`."""

from __future__ import annotations

import json

import typer
from rich.console import Console

# Piped output (CI logs, files) gets room for a members table instead of Rich's 80 columns.
out = Console(highlight=False, width=None if Console().is_terminal else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # an error stays one line


def print_json(value: object) -> None:
    """A service's result (its dataclasses and pydantic models) as JSON on standard output,
    serialised the way the API serialises its responses (pydantic's JSON mode: times in ISO
    8601, decimal amounts as strings), one document, keys in the order the API gives them."""
    from pydantic_core import to_jsonable_python

    typer.echo(json.dumps(to_jsonable_python(value), indent=2, ensure_ascii=False))


def count(n: int, unit: str) -> str:
    """``1 member``, ``3 members``: a count with its unit, plural when it is not one."""
    return f"{n:,} {unit}" + ("" if n == 1 else "s")
