"""The CLI's database: each test's ``a.db`` starts as a copy of the migrated template, as if
`accolade init` had created it (Alembic runs once per session, not once per test); a test
marked ``fresh_database`` starts with no file, as a user's first command does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import sqlite_template  # noqa: F401  (the migrated template)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fresh_database: the CLI test starts with no database file")


@pytest.fixture(autouse=True)
def cli_database(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if request.node.get_closest_marker("fresh_database") is None:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "a.db")
