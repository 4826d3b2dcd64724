"""HTTP through the real app (FastAPI's TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.integration.conftest import pytest_configure, store  # noqa: F401  (the one store fixture)
