"""CONTRIBUTING.md says what the repository does: the README's set-up commands, the checks in
.ci/run, and every benchmark in bench/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def commands(text: str) -> list[str]:
    """The lines that run something: no comments, no blank lines."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(("python3 ", ".venv/"))
    ]


def test_the_set_up_commands_are_the_readmes():
    readme = commands((ROOT / "README.md").read_text(encoding="utf-8"))
    install = [c for c in commands(CONTRIBUTING) if c.startswith("python3 -m pip install")]
    assert install and all(c in readme for c in install), (
        "CONTRIBUTING.md: copy the README's commands"
    )


def test_the_checks_are_the_ones_ci_runs():
    ci = commands((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    section = CONTRIBUTING.split("## The checks CI runs", 1)[1].split("\n## ", 1)[0]
    listed = [c for c in commands(section) if "uv run" in c]
    assert sorted(set(listed)) == sorted(set(ci)), "CONTRIBUTING.md: list what .ci/run runs"


def test_every_benchmark_is_in_the_table():
    benches = {
        p.name
        for p in (ROOT / "bench").glob("*.py")
        if p.read_text(encoding="utf-8").startswith('"""Benchmark:')
    }
    in_table = set(re.findall(r"^\| `bench/(\w+\.py)` \|", CONTRIBUTING, flags=re.MULTILINE))
    assert benches and in_table == benches, "CONTRIBUTING.md: one row per bench/*.py"
