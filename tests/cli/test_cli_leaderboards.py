"""`accolade leaderboards list|show|standing|close` on the example program."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.cli.builders import error_lines, ok, run, table_rows, write_jsonl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "leaderboards.yaml"


def story(id: str, member: str, **attributes: Any) -> dict[str, Any]:
    at = inside_the_current_windows().isoformat()
    out: dict[str, Any] = {"id": id, "type": "story.submitted", "member": member, "occurred_at": at}
    if attributes:
        out["attributes"] = attributes
    return out


def inside_the_current_windows() -> datetime:
    """An hour ago, or half the time since this week began in the program's zone when that
    is less: inside every current window, whatever the moment the suite runs (an hour ago,
    in the first hour of a week, was in the week before, which `close` then closed)."""
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo("America/New_York"))  # examples/leaderboards.yaml
    week = datetime.combine(local.date() - timedelta(days=local.weekday()), time(), local.tzinfo)
    return now - min(timedelta(hours=1), (local - week) / 2)


def advocates(tmp_path: Path) -> None:
    ok(tmp_path, "program", "publish", EXAMPLE)
    sent = [
        story("a1", "ana", name="Ana Ruiz", region="EMEA"),
        story("a2", "ana"),
        story("b1", "ben", region="APAC"),
        story("c1", "chloe", region="EMEA"),
    ]
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", sent))


def test_show_lists_ranks_names_and_scores_of_a_partition(tmp_path):
    advocates(tmp_path)
    result = ok(tmp_path, "leaderboards", "show", "regional", "--partition", "region=EMEA")
    assert table_rows(result) == [
        ["1", "Ana Ruiz (ana)", "1,000"],
        ["2", "chloe", "500"],
    ]
    assert "2 ranked" in result.stdout


def test_show_without_the_partition_says_which_values_there_are(tmp_path):
    advocates(tmp_path)
    result = run(tmp_path, "leaderboards", "show", "regional")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "give region (one of APAC, EMEA)" in line


def test_standing_gives_rank_gap_and_neighbours(tmp_path):
    advocates(tmp_path)
    result = ok(tmp_path, "leaderboards", "standing", "all_time", "chloe", "--around", "1")
    assert "chloe: rank 2 of 3 on Hall of fame (all time), score 500" in result.stdout
    assert "500 points behind the next rank" in result.stdout
    # ben ties chloe at 500 (rank 2 both); at the same time, the subject id decides the order
    assert [row[:2] for row in table_rows(result)] == [["2", "ben"], ["2", "chloe"]]


def test_list_and_close(tmp_path):
    advocates(tmp_path)
    rows = table_rows(ok(tmp_path, "leaderboards", "list"))
    assert [r[0] for r in rows if r[0]][:3] == ["all_time", "this_week", "last_30_days"]
    assert "nothing to roll or close" in ok(tmp_path, "leaderboards", "close").stdout
