"""The one store fixture: every integration test runs on SQLite and on PostgreSQL.

SQLite gets a fresh file, PostgreSQL a fresh schema (dropped afterwards). A PostgreSQL
server that cannot be reached fails the tests with a message; it is never skipped.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Engine, create_engine, text

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


def postgres_engine(url: str, schema: str) -> Engine:
    """An engine whose connections all work inside ``schema``."""
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    migrated = request.node.get_closest_marker("empty_database") is None
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path / "accolade.db")
        # Store.open migrates (or insists on a migrated schema); an empty one is built by hand.
        opened = Store.open(url) if migrated else Store(make_engine(url))
        try:
            yield opened
        finally:
            opened.close()
        return

    url = require_postgres()
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    engine = postgres_engine(url, schema)
    opened = Store(engine)
    try:
        if migrated:
            migrate(engine)
        yield opened
    finally:
        opened.close()
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()
