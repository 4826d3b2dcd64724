"""`accolade init` and `accolade program validate|publish|rollback|versions`."""

from __future__ import annotations

from pathlib import Path

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
    """(version, hash, published, active) rows of `program versions`."""
    return table_rows(ok(tmp_path, "program", "versions"))


@pytest.mark.fresh_database  # a user's first command
def test_init_publishes_the_demo_program(tmp_path):
    result = ok(tmp_path, "init")

    assert "database ready at sqlite:///" in result.stdout
    assert "program partner published as version 1" in result.stdout
    assert [row[0] for row in versions(tmp_path)] == ["1"]


def test_init_twice_keeps_one_version(tmp_path):
    ok(tmp_path, "init")

    result = ok(tmp_path, "init")

    assert "program partner already published as version 1" in result.stdout
    assert len(versions(tmp_path)) == 1


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

    [[version, digest, when, active]] = versions(tmp_path)

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
