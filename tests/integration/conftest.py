"""The one store fixture: every integration test runs on SQLite and on PostgreSQL.

Alembic runs once per session (per xdist worker) into a template; each test gets a fresh copy:
SQLite a copy of the migrated file, PostgreSQL a migrated schema that no other test is using,
emptied by the test before it (SchemaPool). A PostgreSQL server that cannot be reached fails the tests with
a message; it is never skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import Engine, create_engine, event, text

from accolade.store.database import make_engine, migrate
from accolade.store.unit_of_work import Store

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# A test needs no commit to survive a crash of the server: commits return before their WAL is
# flushed (each one saves a disk flush; what a transaction sees and locks is unchanged).
_NO_FLUSH = "-csynchronous_commit=off"
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
    admin = create_engine(require_postgres(), connect_args={"options": _NO_FLUSH})
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
    return create_engine(url, connect_args={"options": f"-csearch_path={schema} {_NO_FLUSH}"})


class SchemaPool:
    """Migrated PostgreSQL schemas for one xdist worker, each used by one test at a time.

    A test takes a schema, and gives it back emptied: every table's rows deleted (the
    migration's own ``alembic_version`` row kept) and every sequence restarted, ~6 ms, where
    a new schema and its migration cost ~150 ms. A schema that cannot be emptied (a test left
    a lock behind, or changed the schema) is dropped and the next test gets a new one.
    """

    def __init__(self, admin: Engine, url: str, migration: list[Statement]) -> None:
        self.admin, self.url, self.migration = admin, url, migration
        self.free: list[str] = []
        self.made: list[str] = []
        self.empty_sql = ""

    def take(self) -> tuple[str, Engine]:
        if self.free:
            schema = self.free.pop()
            return schema, postgres_engine(self.url, schema)
        schema = self._create()
        engine = postgres_engine(self.url, schema)
        replay(engine, self.migration)
        if not self.empty_sql:
            self.empty_sql = _emptying_sql(engine)
        return schema, engine

    def give_back(self, schema: str, engine: Engine) -> None:
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                conn.exec_driver_sql(self.empty_sql)
        except sqlalchemy.exc.DBAPIError:
            self.drop(schema)
        else:
            self.free.append(schema)
        finally:
            engine.dispose()

    def _create(self) -> str:
        schema = f"test_{secrets.token_hex(6)}"
        with self.admin.begin() as conn:
            conn.execute(text(f'create schema "{schema}"'))
        self.made.append(schema)
        return schema

    def drop(self, schema: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))

    def close(self) -> None:
        for schema in self.made:
            self.drop(schema)


def _emptying_sql(engine: Engine) -> str:
    """One script that deletes every row a test can have written, children before parents,
    and restarts every sequence; it checks that the migrated schema has no table the
    application's metadata does not know, so that none is left unemptied."""
    from accolade.store.tables import metadata

    with engine.connect() as conn:
        tables = set(
            conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).scalars()
        )
        sequences = list(
            conn.exec_driver_sql(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
            ).scalars()
        )
    known = [table.name for table in reversed(metadata.sorted_tables)]
    assert tables - {"alembic_version"} == set(known), "the tables differ from the metadata"
    return "; ".join(
        [f'DELETE FROM "{name}"' for name in known]
        + [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
    )


@pytest.fixture(scope="session")
def postgres_schemas(
    postgres_admin: Engine, postgres_migration: list[Statement]
) -> Iterator[SchemaPool]:
    pool = SchemaPool(postgres_admin, postgres_url(), postgres_migration)
    yield pool
    pool.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store for each test: a copy of the migrated template (Alembic runs once per
    session), or an empty one under ``@pytest.mark.empty_database``."""
    with open_store(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """A fresh SQLite store and a fresh PostgreSQL store in one test, for a test whose costly
    part (generating requests, say) is the same for both databases."""
    with (
        open_store("sqlite", request, tmp_path) as sqlite,
        open_store("postgresql", request, tmp_path) as postgresql,
    ):
        yield sqlite, postgresql


@contextmanager
def open_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    migrated = request.node.get_closest_marker("empty_database") is None
    if kind == "sqlite":
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
    if migrated:
        pool: SchemaPool = request.getfixturevalue("postgres_schemas")
        schema, engine = pool.take()
        opened = Store(engine)
        try:
            yield opened
        finally:
            opened.close()
            pool.give_back(schema, postgres_engine(url, schema))
        return

    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"test_{secrets.token_hex(6)}"
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    opened = Store(postgres_engine(url, schema))
    try:
        yield opened
    finally:
        opened.close()
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
