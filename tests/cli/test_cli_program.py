"""`accolade init` and `accolade program validate|publish|rollback|versions`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli.builders import DEMO_PROGRAM, error_lines, ok, run, table_rows

BROKEN = """\
key: partner
name: Broken
actions:
  - key: quiz_passed
    event: quiz.passed
    points: -5
    limits:
      cap: {count: 5, per: fortnight}
badges:
  - key: certified
    name: Certified
    when: {action: quiz_pased}
tiers:
  - key: bronze
    name: Bronze
    min_points: 10
"""


def second_version(tmp_path: Path) -> Path:
    """The demo program with one figure changed: a different version of the same program."""
    path = tmp_path / "partner-v2.yaml"
    text = DEMO_PROGRAM.read_text(encoding="utf-8")
    assert "points: 500\n" in text
    path.write_text(text.replace("points: 500\n", "points: 600\n", 1), encoding="utf-8")
    return path


def versions(tmp_path: Path) -> list[list[str]]:
    """(version, hash, created, active, released, action, approved by, notes) rows of
    `program versions`."""
    return table_rows(ok(tmp_path, "program", "versions"))


def versions_json(tmp_path: Path) -> list[dict[str, Any]]:
    return json.loads(ok(tmp_path, "program", "versions", "--json").stdout)


def record_simulation(tmp_path: Path, file: Path) -> None:
    """What `accolade program simulate FILE` leaves behind: the record that the file's content
    was simulated (written directly, so these tests stay about publishing)."""
    from accolade.program.loader import load_program_file, program_hash
    from accolade.store.unit_of_work import Store

    digest = program_hash(load_program_file(file))
    store = Store.open(f"sqlite:///{tmp_path}/a.db")
    with store.transaction() as uow:
        program = uow.programs.program_by_key("partner")
        assert program is not None
        uow.programs.record_simulation(program.id, digest, datetime.now(UTC), "{}")
    store.engine.dispose()


SIMULATION_REQUIRED = {"ACCOLADE_PUBLISH_REQUIRES_SIMULATION": "true"}


@pytest.mark.fresh_database  # a user's first command
def test_init_publishes_the_demo_program(tmp_path):
    result = ok(tmp_path, "init")

    assert "database ready at sqlite:///" in result.stdout
    assert "program partner published as version 1" in result.stdout
    assert [row[0] for row in versions(tmp_path)] == ["1"]


def test_init_twice_keeps_one_version(tmp_path):
    ok(tmp_path, "init")

    result = ok(tmp_path, "init")

    assert "programs held: partner (none published)" in result.stdout
    assert len(versions(tmp_path)) == 1


def test_init_upgrades_without_publishing_the_demo_over_a_program(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "partner.yaml"
    demo = DEMO_PROGRAM.read_text(encoding="utf-8")
    path.write_text(demo.replace("name: Acme Partner Program", "name: Acme Partners", 1))
    ok(tmp_path, "program", "publish", path)

    result = ok(tmp_path, "init")

    assert "programs held: partner (none published)" in result.stdout
    assert [(row[0], row[3]) for row in versions(tmp_path)] == [("1", ""), ("2", "●")]


def test_init_with_the_program_file_again_says_it_is_published_already(tmp_path):
    path = DEMO_PROGRAM
    ok(tmp_path, "init", "--program-file", path)

    result = ok(tmp_path, "init", "--program-file", path)

    assert "program partner already published as version 1" in result.stdout


def test_init_with_program_file_publishes_that_file(tmp_path):
    path = tmp_path / "academy.yaml"
    path.write_text("key: academy\nname: Academy\nactions:\n  - key: course_done\n    points: 5\n")

    result = ok(tmp_path, "init", "--program-file", path)

    assert "program academy published as version 1" in result.stdout


def test_validate_reports_a_valid_program(tmp_path):
    result = ok(tmp_path, "program", "validate", DEMO_PROGRAM)

    assert "valid: partner (6 actions, 5 badges, 4 tiers)" in result.stdout


def test_validate_lists_every_error_with_its_path_and_exits_2(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)

    result = run(tmp_path, "program", "validate", path)

    assert result.exit_code == 2, result.output
    errors = [line for line in error_lines(result) if line.startswith("error:")]
    assert len(errors) == 4, result.output
    for start in (
        "error: actions[0].points: must be >= 0",
        "error: actions[0].limits.cap.per: 'fortnight' is neither a calendar window",
        "error: badges[0].when.action: unknown action 'quiz_pased'",
        "error: tiers[0].min_points: the first tier must start at 0",
    ):
        assert any(line.startswith(start) for line in errors), result.output


def test_validate_of_an_invalid_file_stores_nothing(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)

    result = run(tmp_path, "program", "validate", path)

    assert result.exit_code == 2, result.output
    assert len(versions(tmp_path)) == 1


def test_publish_of_an_invalid_file_stores_nothing(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)

    result = run(tmp_path, "program", "publish", path)

    assert result.exit_code == 2, result.output
    assert "error: actions[0].points: must be >= 0" in result.stderr
    assert len(versions(tmp_path)) == 1


def test_publish_of_a_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "missing.yaml"

    result = run(tmp_path, "program", "publish", missing)

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        f"error: {missing}: cannot read program file: No such file or directory"
    ]


def test_publish_of_an_invalid_file_lists_each_error_once(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)

    validated = run(tmp_path, "program", "validate", path)
    published = run(tmp_path, "program", "publish", path)

    assert published.exit_code == 2, published.output
    assert error_lines(published) == error_lines(validated), published.output
    assert len(set(error_lines(published))) == len(error_lines(published)) > 1


def test_publish_twice_says_unchanged(tmp_path):
    first = ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    second = ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    assert "published partner version 1" in first.stdout
    assert "unchanged: partner version 1 is active" in second.stdout
    assert len(versions(tmp_path)) == 1


def test_publish_of_a_changed_file_makes_a_new_active_version(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = ok(tmp_path, "program", "publish", second_version(tmp_path))

    assert "published partner version 2" in result.stdout
    assert [(row[0], row[3]) for row in versions(tmp_path)] == [("1", ""), ("2", "●")]


def test_versions_table_shows_hash_and_time(tmp_path):
    published = ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    [[version, digest, when, active, *_release]] = versions(tmp_path)

    assert (version, active) == ("1", "●")
    assert f"({digest})" in published.stdout
    assert len(digest) == 12
    assert when[:2] == "20"


def test_rollback_makes_the_previous_version_active(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path))

    result = ok(tmp_path, "program", "rollback")

    assert "partner: version 1 is active again" in result.stdout
    assert [(row[0], row[3]) for row in versions(tmp_path)] == [("1", "●"), ("2", "")]


def test_rollback_to_a_named_version(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path))
    ok(tmp_path, "program", "rollback")

    result = ok(tmp_path, "program", "rollback", "--to", "2", "--program", "partner")

    assert "partner: version 2 is active again" in result.stdout


def test_rollback_without_an_earlier_version_is_an_error(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "program", "rollback")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        "error: version: program 'partner' has no earlier version to roll back to"
    ]


def test_rollback_to_a_missing_version_is_an_error(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "program", "rollback", "--to", "7")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: version: program 'partner' has no version 7"]


def test_publish_of_an_older_version_after_rollback_does_not_say_unchanged(tmp_path):
    # Publishing content that is already a version re-activates it: after a rollback to 1,
    # publishing version 2's file again switches the active version, so "unchanged" misleads.
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    v2 = second_version(tmp_path)
    ok(tmp_path, "program", "publish", v2)
    ok(tmp_path, "program", "rollback")

    result = ok(tmp_path, "program", "publish", v2)

    assert [(row[0], row[3]) for row in versions(tmp_path)] == [("1", ""), ("2", "●")]
    assert "unchanged" not in result.stdout, result.output


def test_publish_keeps_its_notes_and_approver_as_the_release_record(tmp_path):
    ok(
        tmp_path,
        "program",
        "publish",
        DEMO_PROGRAM,
        "--notes",
        "Q3 launch",
        "--approved-by",
        "Dana (VP Partners)",
    )

    [[_, _, _, active, released, action, approved_by, notes]] = versions(tmp_path)
    assert (active, action, approved_by, notes) == (
        "●",
        "publish",
        "Dana (VP Partners)",
        "Q3 launch",
    )
    assert released[:2] == "20"


def test_versions_json_shows_each_versions_latest_release_record(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM, "--notes", "launch")
    ok(tmp_path, "program", "publish", second_version(tmp_path), "--approved-by", "Dana")
    ok(tmp_path, "program", "rollback", "--notes", "leads dropped", "--approved-by", "Sam")

    first, second = versions_json(tmp_path)

    assert (first["active"], first["action"], first["notes"], first["approved_by"]) == (
        True,
        "rollback",
        "leads dropped",
        "Sam",
    )
    assert (second["action"], second["notes"], second["approved_by"]) == ("publish", None, "Dana")
    assert first["released_at"] >= second["released_at"] > first["created_at"][:4]


def test_a_version_never_made_active_has_no_release_record(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    [version] = versions_json(tmp_path)

    assert version["action"] == "publish"
    assert version["notes"] is None and version["approved_by"] is None


def test_notes_over_2000_characters_are_refused_and_nothing_is_stored(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = run(tmp_path, "program", "publish", second_version(tmp_path), "--notes", "x" * 2001)

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        "error: notes: notes are 2,001 characters long, at most 2,000 fit"
    ]
    assert [row[0] for row in versions(tmp_path)] == ["1"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_an_empty_or_too_long_approver_is_refused_naming_the_field(tmp_path, name):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = run(tmp_path, "program", "publish", second_version(tmp_path), "--approved-by", name)

    assert result.exit_code == 2, result.output
    assert error_lines(result)[0].startswith("error: approved_by: "), result.output
    assert [row[0] for row in versions(tmp_path)] == ["1"]


def test_rollback_with_too_long_notes_changes_nothing(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path))

    result = run(tmp_path, "program", "rollback", "--notes", "x" * 2001)

    assert result.exit_code == 2, result.output
    assert [(row[0], row[3]) for row in versions(tmp_path)] == [("1", ""), ("2", "●")]


def test_when_simulation_is_required_an_unsimulated_version_is_refused(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = run(tmp_path, "program", "publish", second_version(tmp_path), env=SIMULATION_REQUIRED)

    assert result.exit_code == 2, result.output
    [line] = error_lines(result)
    assert line.startswith("error: version: this program file (")
    assert "run `accolade program simulate FILE` first" in line
    assert [row[0] for row in versions(tmp_path)] == ["1"]


def test_when_simulation_is_required_a_simulated_version_is_published(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    draft = second_version(tmp_path)
    record_simulation(tmp_path, draft)

    result = run(tmp_path, "program", "publish", draft, env=SIMULATION_REQUIRED)

    assert result.exit_code == 0, result.output
    assert "published partner version 2" in result.stdout


def test_when_simulation_is_required_the_first_version_and_a_rollback_need_none(tmp_path):
    first = run(tmp_path, "program", "publish", DEMO_PROGRAM, env=SIMULATION_REQUIRED)
    draft = second_version(tmp_path)
    record_simulation(tmp_path, draft)
    ok(tmp_path, "program", "publish", draft)

    rolled = run(tmp_path, "program", "rollback", env=SIMULATION_REQUIRED)

    assert first.exit_code == 0, first.output
    assert rolled.exit_code == 0, rolled.output
    assert [(row[0], row[3]) for row in versions(tmp_path)] == [("1", "●"), ("2", "")]


def diff_lines(result) -> list[str]:
    return result.stdout.splitlines()


def test_diff_of_two_versions_lists_each_rule_change_in_words(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path))

    result = ok(tmp_path, "program", "diff", "1", "2")

    assert diff_lines(result) == [
        "partner: 1 rule change from version 1 to version 2",
        "action 'lead_registered': points 500 → 600",
    ]


def test_diff_of_a_version_and_a_draft_file(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path))
    draft = tmp_path / "draft.yaml"
    text = DEMO_PROGRAM.read_text(encoding="utf-8")
    draft.write_text(text.replace("timezone: America/New_York", "timezone: Europe/Berlin"))

    result = ok(tmp_path, "program", "diff", "1", "--file", draft)

    assert diff_lines(result)[1:] == ["timezone: 'America/New_York' → 'Europe/Berlin'"]


def test_diff_of_a_draft_file_compares_with_the_active_version(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path))
    ok(tmp_path, "program", "rollback")

    result = ok(tmp_path, "program", "diff", "--file", second_version(tmp_path), "--json")

    found = json.loads(result.stdout)
    assert (found["program"], found["from_version"], found["to_version"]) == ("partner", 1, None)
    assert found["changes"] == [
        {
            "section": "actions",
            "key": "lead_registered",
            "field": "points",
            "before": 500,
            "after": 600,
            "text": "action 'lead_registered': points 500 → 600",
        }
    ]


def test_diff_of_the_same_content_says_no_changes(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = ok(tmp_path, "program", "diff", "--file", DEMO_PROGRAM)

    assert diff_lines(result) == ["partner: no rule changes from version 1 to " + str(DEMO_PROGRAM)]


def test_diff_with_an_unknown_version_is_not_found_naming_version(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = run(tmp_path, "program", "diff", "1", "7")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: version: program 'partner' has no version 7"]


def test_diff_with_an_invalid_draft_lists_its_errors(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)

    result = run(tmp_path, "program", "diff", "--file", path)

    assert result.exit_code == 2, result.output
    assert "error: actions[0].points: must be >= 0" in error_lines(result)


def test_diff_needs_a_second_version_or_a_file(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)

    result = run(tmp_path, "program", "diff", "1")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        "error: to: give a second version, or a draft with --file (not both)"
    ]
