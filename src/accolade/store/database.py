"""Engines and migrations: built once at start-up and passed in, never at import time."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from accolade.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test keeps the two in step). Commands check it
# with one query instead of loading Alembic, which costs a quarter second at every start.
SCHEMA_HEAD = "0025"
READ_ONLY = "accolade_read_only"  # execution option of Store.read connections
# Negative: KiB. 64 MiB per connection instead of SQLite's 2.
SQLITE_PAGE_CACHE = -65536
SQLITE_MMAP_BYTES = 4 << 30
# How long a SQLite statement waits for another connection's lock before "database is locked".
SQLITE_BUSY_SECONDS = 30.0


# Connections a process keeps open when the caller does not say (Settings.db_pool_size).
POOL_SIZE = 10


def make_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    The pool keeps ``pool_size`` connections and opens no more: a connection opened for a
    burst and closed after one request (SQLAlchemy's default overflow) costs a PostgreSQL
    backend start, several milliseconds, so a request that finds them all busy waits instead.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(
            f"'{url}' is not a database URL", field="ACCOLADE_DATABASE_URL"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        pooling = {} if in_memory else {"pool_size": pool_size, "max_overflow": 0}
        engine = create_engine(
            parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **pooling
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # 64 MiB of page cache instead of 2: index pages stay in memory as the log grows
            # (replay of 200k events: 16.8k -> 21.4k events/s; ingest ~+9%).
            cursor.execute(f"PRAGMA cache_size={SQLITE_PAGE_CACHE}")
            # Reads of pages outside that cache come from the OS's through a memory map rather
            # than a read() each (address space only; 1.5M events over 300k members: ingest
            # 10.7k -> 11.0k events/s, with three boards 8.0k -> 8.4k, measured).
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.close()
            # The driver's own transaction handling would BEGIN DEFERRED; take the write
            # lock at BEGIN instead, so two writers queue (busy timeout) rather than deadlock.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Readers (Store.read) begin deferred: in WAL mode they never wait for a writer.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                _begin_immediate(conn.connection.driver_connection)

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(
            f"unsupported database '{parsed.get_backend_name()}': use sqlite:/// or postgresql+psycopg://",
            field="ACCOLADE_DATABASE_URL",
        )
    # No JIT: PostgreSQL compiles a query whose estimated cost passes jit_above_cost, and
    # the analytics reports' joins over derived tables (estimated high, run in a few hundred
    # ms) paid 300+ ms of compiling for nothing (qualified on 1M events: 1.2 s -> 0.4 s).
    options = parsed.query.get("options")
    given = options if isinstance(options, str) else " ".join(options or ())
    parsed = parsed.update_query_dict({"options": f"{given} -c jit=off".strip()})
    # No pool_pre_ping: it is a round trip before every transaction. A connection the server
    # dropped fails its first statement instead; SQLAlchemy then discards the whole pool and
    # the API answers 503 with Retry-After (api/errors.py).
    return create_engine(parsed, echo=echo, pool_size=pool_size, max_overflow=0)


def _begin_immediate(dbapi_connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting for another writer with short polls of our own.

    SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries, so a writer that
    finds the lock taken for a millisecond waited 8-30 ms (the tail of single-event requests
    with two API workers). Here a waiter tries again within 2 ms of the lock coming free, for
    up to the same 30 s; then the error is SQLite's own "database is locked".
    """
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    pause = 0.0002
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent). A schema already at head is read in one
    query, without loading Alembic and its scripts (~150 ms on each `init` or `serve`)."""
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def at_head(engine: Engine) -> bool:
    return schema_revision(engine) == SCHEMA_HEAD


def require_head(engine: Engine) -> None:
    """Fail with what to run when the schema is missing or behind this version of Accolade."""
    revision = schema_revision(engine)
    if revision is None:
        raise NotFound(
            "the database has no Accolade schema yet: run `accolade init`",
            field="ACCOLADE_DATABASE_URL",
        )
    if revision != SCHEMA_HEAD:
        raise InvalidInput(
            f"the database schema is at {revision}, this Accolade needs {SCHEMA_HEAD}: run `accolade init` to migrate",
            field="ACCOLADE_DATABASE_URL",
        )
