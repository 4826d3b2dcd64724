"""One transaction, one repository: every state change commits whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from sqlalchemy import Engine

from accolade.store.database import make_engine, migrate, require_head
from accolade.store.repository import Repository


class Store:
    """The database behind Accolade; built once at start-up and passed to services."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, echo: bool = False, migrate_schema: bool = True) -> Store:
        """Open ``url``; migrate it to head, or (``migrate_schema=False``) require it at head."""
        store = cls(make_engine(url, echo=echo))
        if migrate_schema:
            migrate(store.engine)
        else:
            require_head(store.engine)
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Repository]:
        with self.engine.begin() as conn:
            yield Repository(conn)

    def close(self) -> None:
        self.engine.dispose()

