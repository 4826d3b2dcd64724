"""`accolade analytics`: the metric list, a report as a table a person reads (rates as
percentages, a dash where a rate has no denominator), the members behind a figure page by page,
and bad input as one error line naming the field, exit 2."""

from __future__ import annotations

import pytest

from tests.cli.builders import error_lines, ok, run, table_rows
from tests.cli.test_cli_experiments import pilot

JANUARY = ("--from", "2024-01-01", "--to", "2024-01-31", "-p", "pilot")


def test_metrics_lists_each_metric_with_its_measures(tmp_path):
    rows = table_rows(ok(tmp_path, "analytics", "metrics"))
    named = {row[0]: row[1] for row in rows if row[0]}
    assert list(named)[:3] == ["activation", "active", "qualified"]
    assert named["activation"] == "invited, activated, rate"


def test_report_prints_a_row_per_period_with_rates_as_percentages(tmp_path):
    pilot(tmp_path)  # 30 members log in in January 2024, every third attends a webinar
    result = ok(
        tmp_path, "analytics", "report", "activation", "--from", "2024-01-01", "--to",
        "2024-02-29", "-p", "pilot",
    )  # fmt: skip
    assert "activation, 2024-01-01 to 2024-02-29" in result.stdout
    assert table_rows(result) == [
        ["2024-01", "30", "10", "33.3%"],
        ["2024-02", "0", "0", "-"],
    ]


def test_report_by_week_and_tier(tmp_path):
    pilot(tmp_path)
    result = ok(
        tmp_path, "analytics", "report", "active", "--interval", "week", "--by", "tier",
        "--from", "2024-01-01", "--to", "2024-01-14", "-p", "pilot",
    )  # fmt: skip
    assert table_rows(result) == [["2024-W01", "bronze", "12"], ["2024-W02", "bronze", "11"]]


def test_members_behind_a_figure_come_a_page_at_a_time(tmp_path):
    pilot(tmp_path)
    args = ("analytics", "members", "activation", "--measure", "activated", *JANUARY)
    first = ok(tmp_path, *args, "--limit", "3").stdout.splitlines()
    assert first == ["m0", "m12", "m15", "more: --after m15"]
    rest = ok(tmp_path, *args, "--after", "m15").stdout.splitlines()
    assert len(rest) == 7 and "m0" not in rest and not rest[-1].startswith("more")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("report", "actve", *JANUARY),
            "error: metric: unknown metric 'actve' (did you mean 'active'?)",
        ),
        (
            ("report", "active", "--from", "2024-03-01", "--to", "2024-01-01", "-p", "pilot"),
            "error: to: the range ends (2024-01-01) before it starts (2024-03-01)",
        ),
        (("report", "active", "--interval", "day", *JANUARY), "error: interval: "),
        (("report", "active", "--by", "region", *JANUARY), "error: by: "),
        (("members", "active", "--measure", "rate", *JANUARY), "error: measure: "),
    ],
)
def test_bad_input_is_one_line_naming_the_field_and_exit_2(tmp_path, args, line):
    pilot(tmp_path, members=2)
    result = run(tmp_path, "analytics", *args)
    assert result.exit_code == 2, result.output
    [error] = error_lines(result)
    assert error.startswith(line)
