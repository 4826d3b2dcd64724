"""Engines and migrations: built once at start-up and passed in, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from accolade.errors import InvalidInput

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"'{url}' is not a database URL", field="ACCOLADE_DATABASE_URL") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # The driver's own transaction handling would BEGIN DEFERRED; take the write
            # lock at BEGIN instead, so two writers queue (busy timeout) rather than deadlock.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(
            f"unsupported database '{parsed.get_backend_name()}': use sqlite:/// or postgresql+psycopg://",
            field="ACCOLADE_DATABASE_URL",
        )
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def at_head(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
