"""PostgreSQL crashes and comes back under load: the services, on PostgreSQL, recover without
being restarted, and the system loses and repeats nothing.

The server of this scenario is its own (it is stopped with `pg_ctl -m immediate`, every client
cut off, and started again 20 seconds later) while patients are registered and diagnosed. The
outage outlasts what the storage library retries (ten tries of a call, each waiting up to the
connect timeout, 1 s here), so every loop polling the store meets the failure. A call that
meets the outage is answered 503 with `Retry-After` (no promise); everything answered 201
must end, once, in a case manager (`checker.py`); no service process may die. Its negative
control turns off what keeps them alive (`store-outage-restart`: a background loop stopped by
the store's outage is run again), and then a service dies of it.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from carenet_devtools.postgres import PostgresCluster, create_database, start_cluster
from tests.e2e.conftest import free_port

from .conftest import PATIENTS, Run, Starter, starter

pytestmark = pytest.mark.timeout(600)

DOWN_SECONDS = 20
CONNECT_TIMEOUT_SECONDS = 1
"""The library's ten tries of a store call then last about 12 s, less than the outage."""


@pytest.fixture
def postgres() -> Iterator[PostgresCluster]:
    """A server of the test's own, durable (each commit on disk before it is answered, as in
    production): it is crashed, which the session's server must not be."""
    with tempfile.TemporaryDirectory(prefix="carenet-pg-") as base:  # see pytest_postgres
        cluster = start_cluster(Path(base), free_port(), durable=True)
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture
def on_postgres(
    kafka_bootstrap: str, postgres: PostgresCluster, tmp_path: Path
) -> Iterator[Starter]:
    create_database(postgres, "carenet")
    yield from starter(
        kafka_bootstrap,
        tmp_path,
        settings={
            "CARENET_PERSISTENCE": "postgres",
            "CARENET_POSTGRES_HOST": postgres.host,
            "CARENET_POSTGRES_PORT": str(postgres.port),
            "CARENET_POSTGRES_USER": postgres.user,
            "CARENET_POSTGRES_PASSWORD": postgres.password,
            "CARENET_POSTGRES_DBNAME": "carenet",
            "CARENET_POSTGRES_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT_SECONDS),
        },
    )


def test_postgres_crashed_under_load_loses_and_repeats_nothing(
    on_postgres: Starter, postgres: PostgresCluster
) -> None:
    run = on_postgres("intake", {})
    met = crash_under_load(run, postgres)
    anomalies = run.check(quiet_within=60)
    print(f"\n{met}; {run.summary(anomalies)}")
    assert run.crashes == []
    assert sum(anomalies.counts().values()) == 0, anomalies.table()


def test_without_outlasting_the_outage_a_service_dies_of_it(
    on_postgres: Starter, postgres: PostgresCluster
) -> None:
    """The negative control: background loops not run again after the store's outage. No load
    is needed: the relay and the projection poll the store on their own."""
    run = on_postgres("intake", {"CARENET_UNGUARDED": "store-outage-restart"})
    run.diagnose(4)
    Outage().of(postgres)
    deaths = run.deaths(within=30)
    print(f"\nwithout store-outage-restart, PostgreSQL down {DOWN_SECONDS} s: exit status {deaths}")
    assert deaths  # a background loop of intake died of the outage, and took the process


def crash_under_load(run: Run, postgres: PostgresCluster) -> str:
    """Crash the server while patients are diagnosed; what the calls met."""
    run.diagnose(4)
    before, outage = len(run.acknowledged), Outage()
    crash = threading.Thread(target=outage.of, args=(postgres,))
    crash.start()
    try:
        run.diagnose(PATIENTS, until=lambda: not crash.is_alive())
    finally:
        crash.join()
    during = len(run.acknowledged) - before
    run.diagnose(4)  # and after
    met = [(b, e) for b, e in run.calls if b < outage.up and e > outage.down]
    assert met  # the outage was met: calls were in flight while the server was down
    return (
        f"PostgreSQL down {DOWN_SECONDS} s: {len(met)} patients' calls met the outage (the "
        f"longest {max(e - b for b, e in met):.1f} s), {run.unavailable} were answered 503; "
        f"{during} diagnoses answered 201 from the crash until it was back"
    )


class Outage:
    down = up = 0.0

    def of(self, postgres: PostgresCluster) -> None:
        postgres.crash()
        self.down = time.monotonic()
        time.sleep(DOWN_SECONDS)
        self.up = time.monotonic()
        postgres.start()
