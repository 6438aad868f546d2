"""Pytest fixtures giving each test its own database on a real PostgreSQL server.

Set ``CARENET_TEST_POSTGRES_DSN`` to use an existing server; otherwise one throwaway
cluster is started per test session.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from carenet_devtools.ports import free_port
from carenet_devtools.postgres import (
    PostgresCluster,
    create_database,
    drop_database,
    start_cluster,
)

DSN_ENV_VAR = "CARENET_TEST_POSTGRES_DSN"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The server every test database lives on, stopped at session end if we started it."""
    if dsn := os.environ.get(DSN_ENV_VAR):
        yield PostgresCluster.from_dsn(dsn)
        return
    # Not tmp_path_factory: its 0700 root-owned directories would lock out the
    # postgres user that runs the server when the tests run as root.
    with tempfile.TemporaryDirectory(prefix="carenet-pg-") as base_dir:
        cluster = start_cluster(Path(base_dir), free_port())
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    """A fresh, empty database, as the POSTGRES_* settings eventsourcing.postgres reads."""
    name = f"test_{uuid.uuid4().hex}"
    create_database(postgres_cluster, name)
    yield postgres_cluster.eventsourcing_env(name)
    drop_database(postgres_cluster, name)
