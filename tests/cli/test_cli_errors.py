"""Errors: one red `error:` line naming the field, exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from tests.cli.builders import error_lines, event, ok, run, write_jsonl


def test_unknown_member_is_one_error_line(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "member", "show", "nobody")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: member: no member 'nobody' in program 'partner'"]
    assert result.stdout == ""


def test_explain_of_an_unknown_member_is_one_error_line(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "explain", "nobody")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: member: no member 'nobody' in program 'partner'"]


def test_ingest_of_a_missing_file_is_one_error_line(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "ingest", tmp_path / "missing.jsonl")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [f"error: file: no such file: {tmp_path / 'missing.jsonl'}"]


def test_ingest_of_a_file_of_unknown_format_names_the_format(tmp_path):
    ok(tmp_path, "init")
    path = write_jsonl(tmp_path / "events.txt", [event("e1", "quiz.passed")])

    result = run(tmp_path, "ingest", path)

    assert result.exit_code == 2, result.output
    assert error_lines(result)[0].startswith("error: format: cannot tell the format")


def test_ingest_with_an_unknown_format_option_names_the_format(tmp_path):
    ok(tmp_path, "init")
    path = write_jsonl(tmp_path / "events.jsonl", [event("e1", "quiz.passed")])

    result = run(tmp_path, "ingest", path, "--format", "xml")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: format: unknown format 'xml': use jsonl or csv"]


def test_validate_of_a_missing_file_names_the_file(tmp_path):
    result = run(tmp_path, "program", "validate", tmp_path / "missing.yaml")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        f"error: {tmp_path / 'missing.yaml'}: cannot read program file: No such file or directory"
    ]


def test_unknown_program_is_one_error_line(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "member", "show", "alice", "--program", "academy")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: program: no program 'academy' (known: partner)"]


def test_program_from_the_setting(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "program", "versions", env={"ACCOLADE_PROGRAM": "academy"})

    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: program: no program 'academy' (known: partner)"]


@pytest.mark.fresh_database
def test_a_database_without_schema_is_one_error_line_saying_to_run_init(tmp_path):
    result = run(tmp_path, "member", "show", "alice")

    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        "error: ACCOLADE_DATABASE_URL: the database has no Accolade schema yet: run `accolade init`"
    ]


def test_program_file_that_is_not_utf8_is_one_error_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("key: partner\nname: Programme fidélité\n".encode("latin-1"))

    result = run(tmp_path, "program", "validate", path)

    assert result.exit_code == 2, result.output
    assert len(error_lines(result)) == 1, result.output
    assert error_lines(result)[0].startswith(f"error: {path}"), result.output


def test_bad_setting_names_the_variable_and_exits_2(tmp_path):
    ok(tmp_path, "init")

    result = run(tmp_path, "replay", env={"ACCOLADE_INGEST_CHUNK_SIZE": "0"})

    assert result.exit_code == 2, result.output
    assert len(error_lines(result)) == 1, result.output
    assert "ACCOLADE_INGEST_CHUNK_SIZE" in result.stderr, result.output
