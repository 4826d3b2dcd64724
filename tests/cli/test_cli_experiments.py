"""`accolade experiments list|report|decide`, and a member's arm in `accolade member show`."""

from __future__ import annotations

import json
from pathlib import Path

from accolade.service.audit import list_audit
from accolade.store.unit_of_work import Store
from tests.cli.builders import error_lines, ok, run, table_rows, write_jsonl
from tests.programs import program_head

# a window in the past: the report counts outcomes up to the real clock's now
PROGRAM = (
    program_head("pilot", "Pilot")
    + """
actions:
  - {key: login, event: login, points: 5}
  - {key: webinar, event: webinar.attended, points: 50}
analytics:
  activated: [action:webinar]
experiments:
  - key: webinar_points
    name: Do webinar points lift attendance?
    covers: {actions: [webinar]}
    starts: 2024-01-01
    ends: 2024-01-31
    split: 0.5
"""
)


def pilot(tmp_path: Path, members: int = 30) -> None:
    source = tmp_path / "pilot.yaml"
    source.write_text(PROGRAM, encoding="utf-8")
    ok(tmp_path, "program", "publish", source)
    events = []
    for i in range(members):
        at = f"2024-01-{2 + i % 20:02d}T10:00:00Z"
        events.append({"id": f"l{i}", "type": "login", "member": f"m{i}", "occurred_at": at})
        if i % 3 == 0:
            events.append(
                {"id": f"w{i}", "type": "webinar.attended", "member": f"m{i}", "occurred_at": at}
            )
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", events), "-p", "pilot")


def test_experiments_list_shows_each_experiment_with_its_arms(tmp_path):
    pilot(tmp_path)
    [row] = table_rows(ok(tmp_path, "experiments", "list"))
    assert row[0] == "webinar_points"
    assert row[1] == "ended"
    assert int(row[3]) + int(row[4]) == 30
    assert row[5] == "-"


def test_experiments_report_prints_every_outcome_with_its_interval(tmp_path):
    pilot(tmp_path)
    result = ok(tmp_path, "experiments", "report", "webinar_points")
    assert "Do webinar points lift attendance? (webinar_points, ended)" in result.stdout
    assert "covers action:webinar · split 50% treatment" in result.stdout
    outcomes = [r[0] for r in table_rows(result)]
    assert outcomes == ["activation", "active", "qualified", "adoption", "pipeline"]


def test_experiments_report_json_is_the_apis_shape(tmp_path):
    pilot(tmp_path)
    found = json.loads(ok(tmp_path, "experiments", "report", "webinar_points", "--json").stdout)
    assert [a["arm"] for a in found["arms"]] == ["control", "treatment"]
    assert sum(a["members"] for a in found["arms"]) == 30
    assert set(found["outcomes"][0]) >= {
        "metric",
        "control",
        "treatment",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "test",
    }
    assert set(found["srm"]) == {"expected", "observed", "p_value", "mismatch"}
    assert found["decision"] is None


def test_experiments_decide_records_the_decision_the_report_shows(tmp_path):
    pilot(tmp_path)
    result = ok(
        tmp_path,
        "experiments",
        "decide",
        "webinar_points",
        "--decision",
        "ship",
        "--by",
        "Dana",
        "--reason",
        "activation up",
    )
    assert "webinar_points: ship, decided by Dana: activation up" in result.stdout
    found = json.loads(ok(tmp_path, "experiments", "report", "webinar_points", "--json").stdout)
    assert (found["decision"]["decision"], found["decision"]["decided_by"]) == ("ship", "Dana")
    assert (
        "decision: ship by Dana" in ok(tmp_path, "experiments", "report", "webinar_points").stdout
    )


def test_experiments_decide_is_audited_as_the_cli(tmp_path):
    pilot(tmp_path, members=2)
    ok(
        tmp_path,
        "experiments",
        "decide",
        "webinar_points",
        "--decision",
        "stop",
        "--by",
        "Dana",
        "--reason",
        "no lift",
    )

    store = Store.open(f"sqlite:///{tmp_path}/a.db")
    try:
        [entry] = [e for e in list_audit(store, "pilot").entries if e.action.startswith("exp")]
    finally:
        store.close()

    assert (entry.actor, entry.action, entry.target) == (
        "cli",
        "experiment.decided",
        "webinar_points",
    )
    assert entry.after == {"decision": "stop", "decided_by": "Dana", "reason": "no lift"}


def test_a_bad_decision_and_an_unknown_experiment_are_errors_naming_the_field(tmp_path):
    pilot(tmp_path, members=2)
    bad = run(
        tmp_path, "experiments", "decide", "webinar_points", "--decision", "launch", "--by", "D",
        "--reason", "r",
    )  # fmt: skip
    assert bad.exit_code == 2, bad.output
    assert error_lines(bad) == [
        "error: decision: 'launch' is not a decision: use ship, stop or extend"
    ]
    unknown = run(tmp_path, "experiments", "report", "webinar")
    assert unknown.exit_code == 2
    assert error_lines(unknown)[0].startswith("error: experiment: no experiment 'webinar'")


def test_member_show_names_the_members_arm(tmp_path):
    pilot(tmp_path, members=1)
    result = ok(tmp_path, "member", "show", "m0")
    assert "experiment Do webinar points lift attendance?:" in result.stdout
    assert "group (not running)" in result.stdout
