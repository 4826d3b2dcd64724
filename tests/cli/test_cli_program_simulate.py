"""`accolade program simulate`: a draft over the event log, the difference shown, nothing live
written; bad input is one red line and exit code 2."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.builders import (
    DEMO_PROGRAM,
    error_lines,
    event,
    ok,
    run,
    table_rows,
    write_jsonl,
)


def with_quiz_points(tmp_path: Path, points: int, key: str = "partner") -> Path:
    text = DEMO_PROGRAM.read_text(encoding="utf-8")
    text = text.replace("points: 100\n", f"points: {points}\n", 1)
    path = tmp_path / "draft.yaml"
    path.write_text(text.replace("key: partner", f"key: {key}", 1), encoding="utf-8")
    return path


def quizzes(n: int, member: str) -> list[dict[str, object]]:
    """``n`` passed quizzes two hours apart (each clears the cooldown), in May 2026."""
    return [
        event(f"{member}-q{i}", "quiz.passed", member, f"2026-05-04T{2 * i:02d}:00:00Z", score=90)
        for i in range(n)
    ]


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    """The demo program with alice's 8 quizzes and bob's 2 in the log."""
    ok(tmp_path, "init")
    ok(
        tmp_path,
        "ingest",
        write_jsonl(tmp_path / "e.jsonl", quizzes(8, "alice") + quizzes(2, "bob")),
    )
    return tmp_path


def simulations(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "a.db") as db:
        return int(db.execute("SELECT count(*) FROM program_simulations").fetchone()[0])


def test_simulate_shows_points_per_rule_and_who_gains_a_badge(logged: Path) -> None:
    result = ok(logged, "program", "simulate", with_quiz_points(logged, 200), "--member", "alice")

    assert "simulated partner draft" in result.stdout
    rows = {row[0]: row[1:] for row in table_rows(result) if len(row) == 4}
    assert rows["action:quiz_passed"] == ["1,000", "2,000", "+1,000"]
    assert rows["issued"] == ["1,000", "2,000", "+1,000"]
    assert rows["liability"] == ["1,000", "2,000", "+1,000"]
    assert "member alice" in result.stdout
    assert simulations(logged) == 1


def test_simulate_json_is_the_apis_shape(logged: Path) -> None:
    result = ok(
        logged,
        "program",
        "simulate",
        with_quiz_points(logged, 200),
        "--json",
        "--from",
        "2026-05-04T08:00:00Z",
        "--to",
        "2026-06-01",
    )

    report = json.loads(result.stdout)
    assert (report["events"], report["counted"]) == (10, 4)  # alice's quizzes at 08:00-14:00
    quiz = next(f for f in report["points"] if f["key"] == "action:quiz_passed")
    assert quiz == {"key": "action:quiz_passed", "actual": 400, "simulated": 800, "delta": 400}
    assert report["since"] == "2026-05-04T08:00:00Z"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--from", "2026-06-01", "--to", "2026-05-01"], "error: to: must be after from"),
        (["--from", "yesterday"], "error: from: 'yesterday' is not a date"),
        (["--member", "nobody"], "error: member: no member 'nobody'"),
    ],
    ids=["reversed range", "not a date", "unknown member"],
)
def test_bad_options_are_one_red_line_and_store_nothing(
    logged: Path, args: list[str], line: str
) -> None:
    result = run(logged, "program", "simulate", with_quiz_points(logged, 200), *args)

    assert result.exit_code == 2, result.output
    [error] = error_lines(result)
    assert error.startswith(line), result.output
    assert simulations(logged) == 0


def test_a_draft_of_another_program_is_refused(logged: Path) -> None:
    result = run(logged, "program", "simulate", with_quiz_points(logged, 200, key="elsewhere"))

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: key: this file is program 'elsewhere', not 'partner'"]
    assert simulations(logged) == 0


def test_an_invalid_draft_lists_its_errors(logged: Path) -> None:
    result = run(logged, "program", "simulate", with_quiz_points(logged, -5))

    assert result.exit_code == 2, result.output
    assert any(line.startswith("error: actions[2].points:") for line in error_lines(result))
    assert simulations(logged) == 0


def test_simulate_json_is_what_the_api_answers(logged: Path) -> None:
    from fastapi.testclient import TestClient

    from accolade.api.app import create_app
    from accolade.service.keys import create_key
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

    draft = with_quiz_points(logged, 200)
    cli = json.loads(ok(logged, "program", "simulate", draft, "--member", "bob", "--json").stdout)
    url = f"sqlite:///{logged}/a.db"
    store = Store.open(url, migrate_schema=False)
    try:
        key = create_key(store, "partner", ("program:admin",), "test").key
        app = create_app(Settings(database_url=url), store, deliver_webhooks=False)
        with TestClient(app) as client:
            response = client.post(
                "/v1/program/simulate",
                params={"member": "bob"},
                content=draft.read_text(encoding="utf-8"),
                headers={"Authorization": f"Bearer {key}"},
            )
    finally:
        store.close()
    assert response.status_code == 200, response.text
    api = response.json()
    for timing in ("seconds", "events_per_second"):  # two runs, two timings
        assert cli.pop(timing) >= 0 and api.pop(timing) >= 0
    assert cli == api
