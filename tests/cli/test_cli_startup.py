"""What a command loads before it does anything: `import accolade.cli` (every command, and
`accolade --help`, pay for it) loads no web stack, no migrations and no database layer, and a read
on SQLite loads neither the web stack, nor Alembic, nor PostgreSQL's driver. Checked in a fresh
interpreter by the modules it holds, not timed: bench/cli_startup.py times it. (The help of
`keys create` lists the scopes without loading the services: its copy must stay theirs.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from accolade.cli.keys import SCOPES
from tests.cli.builders import ok

WEB = {"fastapi", "starlette", "uvicorn", "httpx"}
MIGRATIONS = {"alembic"}
DATABASE = {"sqlalchemy", "psycopg"}


def packages_loaded(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages in sys.modules once ``code`` has run in a new interpreter."""
    report = (
        "\nimport json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code + report],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.splitlines()[-1]))


def test_importing_the_cli_loads_no_web_stack_migrations_or_database_layer():
    loaded = packages_loaded("import accolade.cli")
    assert "typer" in loaded
    assert not loaded & (WEB | MIGRATIONS | DATABASE), (
        "import these inside the commands that use them: accolade --help and every command "
        "pay for what `import accolade.cli` loads"
    )


def test_a_read_on_sqlite_loads_no_web_stack_migrations_or_postgresql_driver(tmp_path: Path):
    ok(tmp_path, "init")
    command = (
        "import sys\n"
        "from accolade.cli import app\n"
        "sys.argv = ['accolade', 'program', 'versions']\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
    )
    loaded = packages_loaded(command, {"ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    assert "sqlalchemy" in loaded
    assert not loaded & (WEB | MIGRATIONS | {"psycopg"})


def test_keys_create_help_lists_the_scopes_the_service_knows():
    from accolade.service.keys import SCOPES as KNOWN

    assert list(SCOPES) == list(KNOWN)
