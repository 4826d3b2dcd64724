"""SQLite's single writer: other connections wait for it (and stop waiting when told to)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from accolade.store import database
from accolade.store.unit_of_work import Store


@pytest.fixture
def two_stores(tmp_path: Path):
    """Two engines on one SQLite file: two processes, as far as locking goes."""
    url = "sqlite:///" + str(tmp_path / "a.db")
    first, second = Store.open(url), Store.open(url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def _hold_write_lock(store: Store, seconds: float, held: threading.Event) -> None:
    with store.transaction() as uow:
        uow.conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        held.set()
        time.sleep(seconds)


def test_a_writer_waits_for_another_and_then_goes_ahead(two_stores):
    first, second = two_stores
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(first, 0.3, held))
    holder.start()
    held.wait(5)
    start = time.monotonic()
    with second.transaction() as uow:
        waited = time.monotonic() - start
        uow.conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
    holder.join()
    assert 0.2 < waited < 5


def test_a_writer_gives_up_with_sqlites_error_after_the_busy_time(two_stores, monkeypatch):
    first, second = two_stores
    monkeypatch.setattr(database, "SQLITE_BUSY_SECONDS", 0.2)
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(first, 1.0, held))
    holder.start()
    held.wait(5)
    with (
        pytest.raises(sqlite3.OperationalError, match="database is locked"),
        second.transaction(),
    ):
        pass
    holder.join()
    with second.transaction() as uow:  # the connection is usable again, its timeout restored
        assert uow.conn.execute(text("PRAGMA busy_timeout")).scalar() == 200


def test_threads_of_one_process_take_turns_without_errors(tmp_path: Path):
    store = Store.open("sqlite:///" + str(tmp_path / "a.db"))
    done: list[int] = []

    def write(i: int) -> None:
        for _ in range(20):
            with store.transaction() as uow:
                uow.conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        done.append(i)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert sorted(done) == list(range(6))
