"""Builders for CLI tests: run a command in-process on a fresh SQLite file, write event files,
read back the tables a user sees."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from accolade.cli import app
from accolade.sample_events import generate_events

ROOT = Path(__file__).resolve().parents[2]
DEMO_PROGRAM = ROOT / "examples" / "partner-program.yaml"
runner = CliRunner()


def run(tmp_path: Path, *args: str | Path, env: dict[str, str] | None = None) -> Result:
    """``accolade ARGS`` on the database ``tmp_path/a.db`` (the environment is passed, not set)."""
    variables = {"ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path}/a.db", **(env or {})}
    return runner.invoke(app, [str(a) for a in args], env=variables)


def ok(tmp_path: Path, *args: str | Path) -> Result:
    """Run a command that must succeed."""
    result = run(tmp_path, *args)
    assert result.exit_code == 0, result.output
    return result


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def event(
    id: str, type: str, member: str = "alice", at: str = "2026-05-04T14:00:00Z", **properties: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": id, "type": type, "member": member, "occurred_at": at}
    if properties:
        out["properties"] = properties
    return out


def write_jsonl(path: Path, events: Iterable[dict[str, Any] | str]) -> Path:
    """One event per line; a str is written as it is (to make a broken line)."""
    lines = [e if isinstance(e, str) else json.dumps(e) for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_generated(path: Path, events: int = 60, members: int = 5, seed: int = 7) -> Path:
    return write_jsonl(path, generate_events(events, members, seed=seed))


def summary(result: Result) -> dict[str, int]:
    """The accepted/duplicate/limited/rejected/points row of an ingest summary table."""
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "accepted" in line and "rejected" in line)
    names = [c.strip() for c in re.split(r"[┃│]", lines[header]) if c.strip()]
    row = next(line for line in lines[header + 1 :] if re.search(r"\d", line))
    values = [int(c.strip().replace(",", "")) for c in re.split(r"[┃│]", row) if c.strip()]
    return dict(zip(names, values, strict=True))


def table_rows(result: Result) -> list[list[str]]:
    """Data rows of the Rich tables in the output, as lists of cell texts."""
    return [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in result.stdout.splitlines()
        if line.startswith("│")
    ]
