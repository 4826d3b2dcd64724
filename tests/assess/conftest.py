"""Hosted assessment pages through the real app (FastAPI's TestClient), on SQLite and
PostgreSQL."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401  (the one store fixture and its templates)
    postgres_admin,
    postgres_migration,
    postgres_schemas,
    pytest_configure,
    sqlite_template,
    store,
    stores,
)
