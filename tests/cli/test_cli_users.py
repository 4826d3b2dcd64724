"""`accolade users create` and `users list`: the console's first admin is made from the
command line, the password asked twice without echo or read from standard input."""

from __future__ import annotations

import json

from accolade.cli import app
from tests.cli.builders import error_lines, ok, runner

PASSWORD = "correct horse battery"


def users(tmp_path, *args: str, stdin: str | None = None):
    env = {"ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    return runner.invoke(app, ["users", *args], env=env, input=stdin)


def test_create_asks_the_password_twice_and_never_echoes_it(tmp_path):
    ok(tmp_path, "init")
    result = users(
        tmp_path, "create", "ana@example.com", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "console user ana@example.com created (admin)" in result.stdout
    assert PASSWORD not in result.output


def test_create_refuses_two_passwords_that_differ(tmp_path):
    ok(tmp_path, "init")
    result = users(
        tmp_path, "create", "ana@example.com", "--role", "admin", stdin=f"{PASSWORD}\nother\n"
    )
    assert result.exit_code == 1, result.output
    assert "The two entered values do not match." in result.output
    assert json.loads(users(tmp_path, "list", "--json").stdout) == []


def test_create_reads_the_password_from_stdin(tmp_path):
    ok(tmp_path, "init")
    result = users(
        tmp_path,
        "create",
        "Ana@Example.com",
        "--role",
        "operator",
        "--name",
        "Ana",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    [user] = json.loads(users(tmp_path, "list", "--json").stdout)
    assert user == {
        "email": "ana@example.com",
        "name": "Ana",
        "role": "operator",
        "created_at": user["created_at"],
        "locked_until": None,
        "disabled_at": None,
    }


def test_short_password_is_an_error_naming_the_field(tmp_path):
    ok(tmp_path, "init")
    result = users(
        tmp_path,
        "create",
        "ana@example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: password: must be at least 12 characters"]


def test_unknown_role_is_an_error_naming_the_field(tmp_path):
    ok(tmp_path, "init")
    result = users(
        tmp_path, "create", "ana@example.com", "--role", "owner", "--password-stdin", stdin=PASSWORD
    )
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        "error: role: unknown role 'owner' (known: viewer, operator, admin)"
    ]


def test_duplicate_email_is_an_error(tmp_path):
    ok(tmp_path, "init")
    for expected in (0, 2):
        result = users(
            tmp_path,
            "create",
            "ana@example.com",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD,
        )
        assert result.exit_code == expected, result.output
    assert error_lines(result) == ["error: email: ana@example.com has a console user already"]


def test_list_shows_each_user_and_role(tmp_path):
    ok(tmp_path, "init")
    users(
        tmp_path, "create", "ana@example.com", "--role", "admin", "--password-stdin", stdin=PASSWORD
    )
    result = users(tmp_path, "list")
    assert result.exit_code == 0, result.output
    assert "ana@example.com" in result.stdout and "admin" in result.stdout
