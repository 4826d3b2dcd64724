"""One transaction, one unit of work: every state change commits whole or not at all."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from accolade.errors import Unavailable
from accolade.store.database import (
    POOL_SIZE,
    READ_ONLY,
    SQLITE_PAGE_CACHE,
    make_engine,
    migrate,
    require_head,
)
from accolade.store.repositories.analytics import AnalyticsRepository
from accolade.store.repositories.assessments import AssessmentsRepository
from accolade.store.repositories.badge_assertions import BadgeAssertionsRepository
from accolade.store.repositories.console import ConsoleRepository
from accolade.store.repositories.experiments import ExperimentsRepository
from accolade.store.repositories.facets import FacetsRepository
from accolade.store.repositories.keys import KeysRepository
from accolade.store.repositories.leaderboards import LeaderboardsRepository
from accolade.store.repositories.ledger import LedgerRepository
from accolade.store.repositories.log import LogRepository
from accolade.store.repositories.members import MembersRepository
from accolade.store.repositories.outbox import OutboxRepository
from accolade.store.repositories.programs import ProgramsRepository
from accolade.store.repositories.rankings import RankingsRepository
from accolade.store.repositories.recommendations import RecommendationsRepository
from accolade.store.repositories.references import ReferencesRepository
from accolade.store.repositories.referrals import ReferralsRepository
from accolade.store.repositories.rewards import RewardsRepository


class WriteConflict(Exception):
    """Another transaction committed a row this one meant to insert (say, the same event id
    for another member): roll back and run the use case again, it will see that row."""


class UnitOfWork:
    """One transaction's connection and a repository per aggregate on it, each made on first
    use and kept for the rest of the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        # tables this transaction rewrote in bulk: the store samples them once it commits
        self.rewritten: set[str] = set()

    @cached_property
    def programs(self) -> ProgramsRepository:
        return ProgramsRepository(self.conn)

    @cached_property
    def members(self) -> MembersRepository:
        return MembersRepository(self.conn)

    @cached_property
    def log(self) -> LogRepository:
        """The event log; it writes an event's ledger entries and badges with the event."""
        return LogRepository(self.conn, self.ledger)

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self.conn)

    @cached_property
    def leaderboards(self) -> LeaderboardsRepository:
        return LeaderboardsRepository(self.conn)

    @cached_property
    def rankings(self) -> RankingsRepository:
        return RankingsRepository(self.conn)

    @cached_property
    def rewards(self) -> RewardsRepository:
        return RewardsRepository(self.conn)

    @cached_property
    def referrals(self) -> ReferralsRepository:
        return ReferralsRepository(self.conn)

    @cached_property
    def references(self) -> ReferencesRepository:
        return ReferencesRepository(self.conn)

    @cached_property
    def facets(self) -> FacetsRepository:
        return FacetsRepository(self.conn, self.rewritten)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.conn)

    @cached_property
    def keys(self) -> KeysRepository:
        return KeysRepository(self.conn)

    @cached_property
    def experiments(self) -> ExperimentsRepository:
        """Members' arms (from the ledger) and the decisions taken on experiments."""
        return ExperimentsRepository(self.conn)

    @cached_property
    def analytics(self) -> AnalyticsRepository:
        return AnalyticsRepository(self.conn)

    @cached_property
    def assessments(self) -> AssessmentsRepository:
        """Leads' completed assessments."""
        return AssessmentsRepository(self.conn)

    @cached_property
    def badge_assertions(self) -> BadgeAssertionsRepository:
        """The ids of badge awards shown to the world (Open Badges, public badge pages)."""
        return BadgeAssertionsRepository(self.conn)

    @cached_property
    def recommendations(self) -> RecommendationsRepository:
        """Next best action models, and the dismissals members logged."""
        return RecommendationsRepository(self.conn)

    @cached_property
    def console(self) -> ConsoleRepository:
        """The admin console's users, and the audit log."""
        return ConsoleRepository(self.conn)

    @contextmanager
    def large_page_cache(self) -> Iterator[None]:
        """SQLite: 256 MiB of page cache on this connection for the duration (replay rewrites
        every derived row; 1M events: 72 s -> 65 s, measured). PostgreSQL: nothing to do."""
        if self.dialect != "sqlite":
            yield
            return
        self.conn.exec_driver_sql("PRAGMA cache_size=-262144")
        try:
            yield
        finally:
            self.conn.exec_driver_sql(f"PRAGMA cache_size={SQLITE_PAGE_CACHE}")


class Store:
    """The database behind Accolade; built once at start-up and passed to services."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time: threads of this process queue here, and are woken
        # the moment it is free, instead of polling the database lock.
        self._writer: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    @classmethod
    def open(
        cls,
        url: str,
        *,
        echo: bool = False,
        migrate_schema: bool = True,
        pool_size: int = POOL_SIZE,
    ) -> Store:
        """Open ``url``; migrate it to head, or (``migrate_schema=False``) require it at head."""
        store = cls(make_engine(url, echo=echo, pool_size=pool_size))
        if migrate_schema:
            migrate(store.engine)
        else:
            require_head(store.engine)
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        try:
            with self._writer, self.engine.begin() as conn:
                uow = UnitOfWork(conn)
                yield uow
        except Exception as exc:
            _raise_lost_connection(exc)
            if not _is_retryable(exc):
                raise
            raise WriteConflict(str(exc)) from exc
        self._refresh_statistics(uow.rewritten)

    def _refresh_statistics(self, tables: set[str]) -> None:
        """PostgreSQL: sample the tables a transaction rewrote in bulk, once it has committed,
        so that the planner does not plan on the old row counts until autovacuum's next pass
        (a minute or more; never where it is off). With no statistics on the facet index, a
        reference match over 100k advocates took 3.5 s instead of 18 ms (p50). Outside the
        transaction: an ANALYZE inside it would hold its lock on the table until the commit,
        and its figures are seen only after it anyway. SQLite plans without statistics."""
        if not tables or self.dialect != "postgresql":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in sorted(tables):
                conn.exec_driver_sql(f"ANALYZE {table}")

    @contextmanager
    def read(self, *, generic_plans: bool = False) -> Iterator[UnitOfWork]:
        """A read-only transaction: one consistent snapshot; on SQLite it never takes the
        write lock, so reads go on while an ingest writes.

        ``generic_plans``: PostgreSQL plans the transaction's statements once per connection
        (psycopg prepares a statement at its fifth run) instead of at every run, for reads of
        short index ranges whose plan does not depend on the values. PostgreSQL keeps planning
        those afresh because its generic estimate for them is pessimistic; planning was most
        of each leaderboard statement (around-me: 0.27 ms generic against 0.66 ms)."""
        try:
            with (
                self.engine.connect().execution_options(**{READ_ONLY: True}) as conn,
                conn.begin(),
            ):
                if generic_plans and self.dialect == "postgresql":
                    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
                yield UnitOfWork(conn)
        except DBAPIError as exc:
            _raise_lost_connection(exc)
            raise

    def close(self) -> None:
        self.engine.dispose()


def _raise_lost_connection(exc: Exception) -> None:
    """Pooled connections are not pinged before use (a round trip on every request): the
    first use after the database restarts finds its connection dead. SQLAlchemy then drops
    the whole pool, so the caller may simply try again."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        raise Unavailable("the database connection was lost: retry", field=None) from exc


def _is_retryable(exc: Exception) -> bool:
    """A unique key taken by a concurrent writer, or a deadlock PostgreSQL broke."""
    if isinstance(exc, IntegrityError | OperationalError):  # SQLAlchemy's, around the driver's
        if "UNIQUE constraint failed" in str(exc.orig):  # SQLite
            return True
        return _is_psycopg_error(exc.orig, "UniqueViolation", "DeadlockDetected")
    return _is_psycopg_error(exc, "UniqueViolation")  # psycopg's own (its COPY raises it)


def _is_psycopg_error(exc: BaseException | None, *names: str) -> bool:
    """Whether ``exc`` is one of psycopg's errors of these names. psycopg is imported by
    PostgreSQL's engines only (importing it costs a tenth of a second at the start of every
    command on SQLite): when it is not loaded, no error can be one of its."""
    errors = sys.modules.get("psycopg.errors")
    return errors is not None and isinstance(exc, tuple(getattr(errors, n) for n in names))
