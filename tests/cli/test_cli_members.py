"""`accolade member show`, `explain`, `reverse` and `replay` on a member with a known history."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.builders import error_lines, event, ok, run, table_rows, write_jsonl


def alice_history(tmp_path: Path) -> None:
    """Five quizzes in 2026 (Certified User, Product Expert 2026), a profile and a lead: 1,030."""
    quizzes = [
        event(f"q{n}", "quiz.passed", at=f"2026-05-0{n}T14:00:00Z", quiz=f"q{n}")
        for n in range(1, 6)
    ]
    others = [
        event("p1", "profile.completed", at="2026-05-06T14:00:00Z"),
        event("l1", "lead.registered", at="2026-05-07T14:00:00Z", qualified=True),
    ]
    ok(tmp_path, "init")
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "alice.jsonl", quizzes + others))


def test_member_show_gives_balance_tier_benefits_and_badges(tmp_path):
    alice_history(tmp_path)

    result = ok(tmp_path, "member", "show", "alice")

    lines = result.stdout.splitlines()
    assert lines[0] == "alice"
    assert lines[1] == "balance 1,030 · lifetime 1,030 · tier Bronze"
    assert "3,970 points to Silver" in result.stdout
    assert "benefits: standard_resources=True" in result.stdout
    badges = next(line for line in lines if line.startswith("badges: "))
    assert sorted(badges.removeprefix("badges: ").split(", ")) == [
        "Certified User",
        "Product Expert 2026",
    ]


def test_member_show_lists_recent_entries_newest_first(tmp_path):
    alice_history(tmp_path)

    rows = table_rows(ok(tmp_path, "member", "show", "alice"))

    assert len(rows) == 10
    assert rows[0][1:5] == ["l1", "earn", "action:lead_registered", "+500"]


def test_explain_lists_every_entry_with_rule_version_and_totals(tmp_path):
    alice_history(tmp_path)

    result = ok(tmp_path, "explain", "alice")

    rows = table_rows(result)
    rules = [row[3] for row in rows]
    assert rules == [
        "action:quiz_passed",
        "badge:certified_user",
        "tier:bronze",
        "action:quiz_passed",
        "action:quiz_passed",
        "action:quiz_passed",
        "action:quiz_passed",
        "badge:product_expert 2026",
        "action:profile_completed",
        "action:lead_registered",
    ]
    assert {row[6] for row in rows} == {"v1"}
    assert rows[-1][1:3] == ["l1", "lead.registered"]
    assert "balance 1,030 · lifetime 1,030" in result.stdout


def test_reverse_compensates_points_and_badges_with_the_reason(tmp_path):
    alice_history(tmp_path)

    result = ok(tmp_path, "reverse", "q5", "--reason", "quiz taken by a colleague")

    assert "reversed q5: -100 points" in result.stdout
    assert "quiz taken by a colleague" in result.stdout
    shown = ok(tmp_path, "member", "show", "alice").stdout.splitlines()
    assert shown[1] == "balance 930 · lifetime 930 · tier Bronze"
    assert "badges: Certified User" in shown  # four quizzes do not make a Product Expert


def test_reverse_again_with_the_same_reason_changes_nothing(tmp_path):
    alice_history(tmp_path)
    ok(tmp_path, "reverse", "l1", "--reason", "lead disqualified")

    result = ok(tmp_path, "reverse", "l1", "--reason", "lead disqualified")

    assert "already reversed for the same reason; nothing changed" in result.stdout
    assert "balance 530 ·" in ok(tmp_path, "member", "show", "alice").stdout


def test_reverse_again_with_another_reason_is_an_error(tmp_path):
    alice_history(tmp_path)
    ok(tmp_path, "reverse", "l1", "--reason", "lead disqualified")

    result = run(tmp_path, "reverse", "l1", "--reason", "something else")

    assert result.exit_code == 2, result.output
    assert error_lines(result)[0].startswith("error: event_id: event 'l1' was already reversed")


def test_reverse_of_an_unknown_event_is_an_error(tmp_path):
    alice_history(tmp_path)

    result = run(tmp_path, "reverse", "nope", "--reason", "typo")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: event_id: no event 'nope' in program 'partner'"]


def test_reverse_without_a_reason_is_an_error(tmp_path):
    alice_history(tmp_path)

    result = run(tmp_path, "reverse", "l1", "--reason", "  ")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: reason: say why the event is reversed"]


def test_replay_rebuilds_the_same_member_state(tmp_path):
    alice_history(tmp_path)
    ok(tmp_path, "reverse", "q5", "--reason", "duplicate account")
    before = ok(tmp_path, "explain", "alice").stdout.splitlines()[-1]

    result = ok(tmp_path, "replay")

    assert "replayed 7 events and 1 reversals for 1 members" in result.stdout
    after = ok(tmp_path, "explain", "alice").stdout.splitlines()[-1]
    assert after == before == "balance 930 · lifetime 930"


def test_member_update_sets_and_clears_attributes_and_a_repeat_changes_nothing(tmp_path):
    ok(tmp_path, "init")
    change = "member update ana --set region=EMEA --set seats=12 --company acme --id crm-1"
    first = ok(tmp_path, *change.split(), "--json")
    again = ok(tmp_path, *change.split(), "--json")
    cleared = ok(tmp_path, "member", "update", "ana", "--clear", "seats", "--json")

    assert json.loads(first.stdout)["attributes"] == {"region": "EMEA", "seats": 12}
    assert json.loads(first.stdout)["company"] == "acme"
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert json.loads(cleared.stdout)["attributes"] == {"region": "EMEA", "seats": None}


def test_member_update_without_a_change_or_with_a_bad_pair_names_the_option(tmp_path):
    ok(tmp_path, "init")

    bare = run(tmp_path, "member", "update", "ana")
    bad = run(tmp_path, "member", "update", "ana", "--set", "region")
    shown = run(tmp_path, "member", "show", "ana")

    assert bare.exit_code == 2 and "--set, --clear, --team or --company" in bare.stderr
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --set: 'region'")
    assert shown.exit_code == 2  # nothing was stored: no member
