"""Fixtures of the integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """A service's store, on real SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "service.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    database: dict[str, str] = request.getfixturevalue("postgres_database")
    return {**database, "PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y"}
