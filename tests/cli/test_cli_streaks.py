"""`accolade member show` prints one line per streak of the program."""

from __future__ import annotations

import re

from tests.cli.builders import event, ok, write_jsonl
from tests.integration.test_streaks import STREAKY_SOURCE


def test_member_show_prints_each_streak(tmp_path):
    source = tmp_path / "streaky.yaml"
    source.write_text(STREAKY_SOURCE, encoding="utf-8")
    quizzes = [
        event(f"q{n}", "quiz.passed", at=f"2026-05-0{n}T14:00:00Z", quiz=f"q{n}") for n in (4, 5, 6)
    ]
    ok(tmp_path, "init")
    ok(tmp_path, "program", "publish", source)
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "quizzes.jsonl", quizzes))

    lines = ok(tmp_path, "member", "show", "alice").stdout.splitlines()

    # `member show` uses the real clock: the current run depends on today, the longest does not
    daily, weekly = [line for line in lines if line.startswith("streak ")]
    assert re.match(r"streak Daily quiz: \d+ days? \(longest 3\) · (not )?done today · ", daily)
    assert re.search(r" · \d+ days? to the 7-day milestone$", daily), daily
    assert re.match(r"streak Weekly quiz: \d+ weeks? \(longest 1\) · ", weekly), weekly
    assert "freeze" not in weekly and "grace" not in weekly  # the weekly streak has neither
