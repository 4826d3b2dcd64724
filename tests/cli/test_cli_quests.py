"""`accolade member show` with quests, and `accolade quests funnel`."""

from __future__ import annotations

from pathlib import Path

from tests.cli.builders import error_lines, event, ok, run, table_rows, write_jsonl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "onboarding-quest.yaml"


def onboarding(tmp_path: Path, steps: dict[str, int]) -> None:
    """Each member does the first N steps of the Onboarding Quest, an hour apart."""
    ok(tmp_path, "program", "publish", EXAMPLE)
    sent = []
    for member, n in steps.items():
        all_steps = [
            event(f"{member}-w", "video.watched", member, "2026-05-04T14:00:00Z", video="welcome"),
            event(f"{member}-p", "profile.completed", member, "2026-05-04T15:00:00Z"),
            event(
                f"{member}-q",
                "quiz.passed",
                member,
                "2026-05-04T16:00:00Z",
                quiz="core_features",
                score=90,
            ),
            event(f"{member}-i", "colleague.invited", member, "2026-05-04T17:00:00Z"),
        ]
        sent += all_steps[:n]
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", sent))


def test_member_show_draws_each_quest_with_its_next_step(tmp_path):
    onboarding(tmp_path, {"alice": 2})
    result = ok(tmp_path, "member", "show", "alice")
    assert (
        "quest Onboarding Quest: █████░░░░░ 2/4 (in_progress) · next: Pass the Core Features quiz"
        in result.stdout
    )


def test_quests_funnel_shows_drop_off_per_step(tmp_path):
    onboarding(tmp_path, {"a": 4, "b": 2, "c": 2, "d": 1})
    result = ok(tmp_path, "quests", "funnel", "onboarding")
    rows = table_rows(result)
    assert [r[1:4] for r in rows] == [
        ["4", "0", "0.0%"],
        ["3", "1", "25.0%"],
        ["1", "2", "66.7%"],
        ["1", "0", "0.0%"],
    ]
    assert [r[4] for r in rows] == ["-", "1.0 h", "1.0 h", "1.0 h"]
    assert "started 4 · completed 1 (25.0%)" in result.stdout
    summary = table_rows(ok(tmp_path, "quests", "funnel"))
    assert summary[0] == ["onboarding", "4", "1", "25.0%"]


def test_an_unknown_quest_is_named(tmp_path):
    onboarding(tmp_path, {"a": 1})
    result = run(tmp_path, "quests", "funnel", "onbaording")
    assert result.exit_code == 2
    assert "no quest 'onbaording'" in error_lines(result)[0]
