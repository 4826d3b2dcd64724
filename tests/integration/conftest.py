"""The one store fixture: every integration test runs on SQLite and on PostgreSQL.

Alembic runs once per session (per xdist worker) into a template; each test gets a fresh copy:
SQLite a copy of the migrated file, PostgreSQL a fresh schema (dropped afterwards) into which
the statements of that one migration are replayed. A PostgreSQL server that cannot be reached fails the tests with
a message; it is never skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import Engine, create_engine, event, text

from accolade.store.database import make_engine, migrate
from accolade.store.unit_of_work import Store

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_server_checked: list[str] = []  # the error of the one attempt to reach the server, or "ok"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "empty_database: the store fixture leaves the schema unmigrated"
    )


def postgres_url() -> str:
    return os.environ.get("ACCOLADE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _reachable(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return None
    except sqlalchemy.exc.OperationalError as exc:
        return str(exc.orig or exc).strip()
    finally:
        engine.dispose()


def _start_server() -> str:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        return "no cluster under /etc/postgresql to start"
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"pg_ctlcluster exited {done.returncode}: {(done.stderr or done.stdout).strip()}"


def require_postgres() -> str:
    """The server URL; fails the test (never skips) when the server stays down."""
    url = postgres_url()
    if not _server_checked:
        error = _reachable(url)
        if error is not None:
            started = _start_server()
            error = _reachable(url)
            if error is not None:
                error = f"{error}\n(tried to start it: {started})"
        _server_checked.append(error or "ok")
    if _server_checked[0] != "ok":
        pytest.fail(
            f"PostgreSQL is not reachable at {url}: {_server_checked[0]}\n"
            "Start it (pg_ctlcluster <version> main start) or point "
            "ACCOLADE_TEST_POSTGRES_URL at a server with trust auth.",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session (per xdist worker); tests get a copy."""
    path = tmp_path_factory.mktemp("template") / "accolade.db"
    Store.open("sqlite:///" + str(path)).close()  # the last close folds the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """The connection that creates and drops the tests' schemas."""
    admin = create_engine(require_postgres())
    yield admin
    admin.dispose()


Statement = tuple[str, Any, bool]  # SQL, its parameters, whether it was an executemany


@pytest.fixture(scope="session")
def postgres_migration(postgres_admin: Engine) -> list[Statement]:
    """What Alembic sends to bring an empty schema to head, recorded once per session (per
    xdist worker) and replayed into each test's schema.

    The same statements in the same order, with none of Alembic's loading and introspection
    around them: ~80 ms a schema instead of ~500 ms. (A database copied with CREATE DATABASE
    ... TEMPLATE was slower with two workers: each DROP DATABASE waits for a checkpoint.)
    """
    schema = f"template_{secrets.token_hex(6)}"
    with postgres_admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    engine = postgres_engine(postgres_url(), schema)
    statements: list[Statement] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        statements.append((statement, parameters, many))

    try:
        migrate(engine)
    finally:
        engine.dispose()
        with postgres_admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
    # Replayed elsewhere, the statements must not name the schema they were recorded in.
    assert not [sql for sql, _, _ in statements if schema in sql], "a statement names its schema"
    return statements


def replay(engine: Engine, statements: list[Statement]) -> None:
    """Run ``statements`` in one transaction, as the driver first received them."""
    with engine.begin() as conn:
        cursor = conn.connection.cursor()
        for sql, parameters, many in statements:
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)


def postgres_engine(url: str, schema: str) -> Engine:
    """An engine whose connections all work inside ``schema``."""
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store for each test: a copy of the migrated template (Alembic runs once per
    session), or an empty one under ``@pytest.mark.empty_database``."""
    migrated = request.node.get_closest_marker("empty_database") is None
    if request.param == "sqlite":
        path = tmp_path / "accolade.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        opened = Store(make_engine("sqlite:///" + str(path)))
        try:
            yield opened
        finally:
            opened.close()
        return

    url = require_postgres()  # fails this test, with the reason, when the server is down
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"test_{secrets.token_hex(6)}"
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    engine = postgres_engine(url, schema)
    opened = Store(engine)
    try:
        if migrated:
            replay(engine, request.getfixturevalue("postgres_migration"))
        yield opened
    finally:
        opened.close()
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
