"""The one store fixture: every integration test runs on SQLite and on PostgreSQL.

Alembic runs once per session (per xdist worker) into a template; each test gets a fresh copy:
SQLite a copy of the migrated file, PostgreSQL a database made from the migrated template
database (dropped afterwards). A PostgreSQL server that cannot be reached fails the tests with
a message; it is never skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

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
    """A connection outside any transaction: CREATE and DROP DATABASE refuse to run in one."""
    admin = create_engine(require_postgres(), isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_template(postgres_admin: Engine) -> Iterator[str]:
    """A database migrated to head once per session (per xdist worker).

    Its name is random, so workers and other runs on the same server never share one: a
    template must have no other connection while it is copied.
    """
    name = f"accolade_template_{secrets.token_hex(6)}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    try:
        engine = create_engine(database_url(name), poolclass=NullPool)
        migrate(engine)
        engine.dispose()
        yield name
    finally:
        with postgres_admin.connect() as conn:
            conn.execute(text(f'drop database "{name}" with (force)'))


def database_url(name: str) -> str:
    """The test server's URL with ``name`` as its database."""
    return make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store for each test: a copy of the migrated template (Alembic runs once per
    session), or an empty database under ``@pytest.mark.empty_database``."""
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

    require_postgres()  # fails this test, with the reason, when the server is down
    admin: Engine = request.getfixturevalue("postgres_admin")
    name = f"accolade_test_{secrets.token_hex(6)}"
    # CREATE DATABASE ... TEMPLATE copies the migrated one (~50 ms, Alembic ~500 ms); an
    # empty database is a copy of template1, which has an empty public schema.
    template = f' template "{request.getfixturevalue("postgres_template")}"' if migrated else ""
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"{template}'))
    opened = Store(make_engine(database_url(name)))
    try:
        yield opened
    finally:
        opened.close()
        with admin.connect() as conn:
            # FORCE: a second engine a test opened on the same database may still be pooled.
            conn.execute(text(f'drop database "{name}" with (force)'))
