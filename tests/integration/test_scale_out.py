"""Scaling out: replicas of a service on one store, every effect exactly once.

Two processes of casework share one PostgreSQL schema and one consumer group: the group splits
the partitions between them, tracking records in the shared store keep every effect single
across a rebalance and a SIGKILL, and one relay at a time publishes the outbox (its lease).
Casework is the service under test because each PatientRouted has a fixed, countable effect:
one case opened, its case manager assigned and the manager joined to the care team, as three
messages numbered 1, 2, 3 in the patient's stream.

The focused lease tests run two relays in this process on one store (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from aiokafka import AIOKafkaProducer
from confluent_kafka.admin import AdminClient
from eventsourcing.persistence import InfrastructureFactory

from bench.synthetic import SyntheticNetwork, produce
from carenet_audit.projection import HistoryIndex
from carenet_contracts import Envelope
from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.keys import DevKeyring, HandMadeStreams
from carenet_devtools.postgres import PostgresCluster, create_database
from carenet_devtools.services import ServiceProcess
from carenet_devtools.topics import consumer_lag, read_topic
from carenet_kit.lease import FileLease, Lease, PostgresLease, advisory_key
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.relay import OutboxRelay
from carenet_kit.topics import load_catalog
from carenet_routing.application import RoutingApplication
from carenet_routing.outbox import to_integration_event

from ..e2e.conftest import eventually, free_port
from .test_audit_readside import store_env
from .test_routing_deadlines import diagnosed
from .test_services import routed

REPO = Path(__file__).parents[2]
CENTER = "CHC-NS-XILI"
OPENED = ["CaseOpened", "CaseManagerAssigned", "CareTeamMemberJoined"]
"""Casework's effect of one PatientRouted, in the patient's stream, in this order."""
PARTITIONS = 6


# -- two processes of casework ---------------------------------------------------------------


@dataclass
class Replicas:
    bootstrap: str
    namespace: str
    processes: list[ServiceProcess]
    streams: HandMadeStreams
    """Signs what the test publishes with the producers' keys the replicas trust."""

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    @property
    def group(self) -> str:
        return f"{self.namespace}carenet-casework"

    def route(self, patients: int) -> list[str]:
        """PatientRouted for that many fresh patients, keyed by patient (all partitions)."""
        messages = [routed(CENTER) for _ in range(patients)]
        signed = [self.streams.next_of("routing", json.loads(value)) for _, value, _ in messages]

        async def send() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
            await producer.start()
            try:
                for key, value, headers in signed:
                    await producer.send(self.topic("routing"), value, key=key, headers=headers)
                await producer.flush()
            finally:
                await producer.stop()

        run_sync(send())
        return [patient for _, _, patient in messages]

    def published(self) -> list[Envelope[Any]]:
        return run_sync(read_topic(self.bootstrap, self.topic("casework")))

    def lag(self) -> int:
        topics = [self.topic("routing"), self.topic("intake")]
        return run_sync(consumer_lag(self.bootstrap, self.group, topics))

    def assignment(self) -> dict[str, set[tuple[str, int]]]:
        """The group's members (by client host and id) and the partitions each one holds."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        (future,) = admin.describe_consumer_groups([self.group]).values()
        description = future.result(timeout=30)
        return {
            member.member_id: {
                (tp.topic, tp.partition)
                for tp in (member.assignment.topic_partitions if member.assignment else [])
            }
            for member in description.members
        }

    def log_lines(self, process: ServiceProcess, event: str) -> int:
        """How many times the process logged that event."""
        return sum(entry.get("event") == event for entry in _log(process))


@dataclass
class SharedStore:
    """A fresh namespace of topics and PostgreSQL database, and the settings of a replica."""

    namespace: str
    env: dict[str, str]
    tmp_path: Path
    keyring: DevKeyring

    def replicas(self, service: str) -> list[ServiceProcess]:
        """Two processes of the service on the store, each with a data directory of its own,
        both signing with the service's key."""
        return [
            ServiceProcess(
                service,
                free_port(),
                {
                    **self.env,
                    **self.keyring.env(service),
                    "CARENET_DATA_DIR": str(self.tmp_path / name / "data"),
                },
                self.tmp_path / name / f"{service}.log",
            )
            for name in ("a", "b")
        ]


@pytest.fixture
def shared_store(
    kafka_bootstrap: str, postgres_cluster: PostgresCluster, tmp_path: Path
) -> SharedStore:
    namespace = f"it-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    database = f"svc_{uuid4().hex[:12]}"
    create_database(postgres_cluster, database)
    keyring = DevKeyring(tmp_path / "keys")
    env = {
        **DevIssuer(tmp_path / "keys").env(),
        **keyring.trusted_env(),
        "CARENET_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CARENET_TOPIC_NAMESPACE": namespace,
        "CARENET_REFERENCE_FILE": str(REPO / "reference" / "demo-directory.yaml"),
        "CARENET_RULE_SET_FILE": str(REPO / "rules" / "nhc-2018.yaml"),
        "CARENET_PERSISTENCE": "postgres",
        "CARENET_POSTGRES_HOST": postgres_cluster.host,
        "CARENET_POSTGRES_PORT": str(postgres_cluster.port),
        "CARENET_POSTGRES_USER": postgres_cluster.user,
        "CARENET_POSTGRES_PASSWORD": postgres_cluster.password,
        "CARENET_POSTGRES_DBNAME": database,
        "CARENET_CONSUMER_SESSION_TIMEOUT_SECONDS": "10",
        "CARENET_RELAY_LEASE_SECONDS": "0.5",
    }
    return SharedStore(namespace, env, tmp_path, keyring)


@contextmanager
def started(processes: list[ServiceProcess]) -> Iterator[list[ServiceProcess]]:
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        yield processes
    finally:
        for process in processes:
            process.stop()


@pytest.fixture
def replicas(kafka_bootstrap: str, shared_store: SharedStore) -> Iterator[Replicas]:
    with started(shared_store.replicas("casework")) as processes:
        yield Replicas(
            kafka_bootstrap,
            shared_store.namespace,
            processes,
            HandMadeStreams(shared_store.keyring),
        )


def assert_every_effect_once(published: list[Envelope[Any]], patients: list[str]) -> None:
    """One case opened per patient, no message twice, every patient's stream 1, 2, 3."""
    ids = Counter(m.event_id for m in published)
    assert [i for i, n in ids.items() if n > 1] == []
    by_patient: dict[str, list[Envelope[Any]]] = {}
    for message in published:
        by_patient.setdefault(str(message.patient_id), []).append(message)
    wrong = {
        patient: [(m.sequence, m.event_type) for m in by_patient.get(patient, [])]
        for patient in patients
        if [m.event_type for m in by_patient.get(patient, [])] != OPENED
        or [m.sequence for m in by_patient.get(patient, [])] != [1, 2, 3]
    }
    assert wrong == {}
    assert sorted(by_patient) == sorted(patients)


def all_opened(replicas: Replicas, patients: list[str]) -> list[Envelope[Any]] | None:
    published = replicas.published()
    opened = {str(m.patient_id) for m in published if m.event_type == "CareTeamMemberJoined"}
    return published if opened >= set(patients) else None


def test_two_replicas_split_the_partitions_and_every_effect_happens_once_through_a_sigkill(
    replicas: Replicas,
) -> None:
    figures: dict[str, object] = {}
    every = {(replicas.topic(p), i) for p in ("routing", "intake") for i in range(PARTITIONS)}

    def split() -> dict[str, set[tuple[str, int]]] | None:
        members = replicas.assignment()
        held = list(members.values())
        if len(held) == 2 and all(held) and not held[0] & held[1] and held[0] | held[1] == every:
            return members
        return None

    before = eventually(split, timeout=60)
    figures["partitions per member"] = sorted(len(p) for p in before.values())

    # batch 1: both replicas consume, one relay publishes
    started = time.monotonic()
    first = replicas.route(60)
    published = eventually(lambda: all_opened(replicas, first), timeout=120)
    figures["batch 1: 60 patients, seconds"] = round(time.monotonic() - started, 1)
    assert_every_effect_once(published, first)
    a, b = replicas.processes
    handled = [replicas.log_lines(p, "event handled") for p in (a, b)]
    figures["batch 1: messages handled by each replica"] = handled
    assert all(handled), "both replicas consume"
    leaders = [p for p in (a, b) if replicas.log_lines(p, "relay lease taken")]
    assert len(leaders) == 1, "one relay publishes"
    (leader,) = leaders
    survivor = b if leader is a else a

    # batch 2: SIGKILL the replica that holds the relay lease while it works
    started = time.monotonic()
    second = replicas.route(120)
    eventually(
        lambda: sum(str(m.patient_id) in second for m in replicas.published()) >= 10 or None,
        every=0.05,
    )
    leader.kill()
    killed_at = time.monotonic()
    figures["batch 2: patients published before the SIGKILL"] = len(
        {str(m.patient_id) for m in replicas.published()} & set(second)
    )
    eventually(lambda: replicas.log_lines(survivor, "relay lease taken") or None, timeout=60)
    figures["lease taken over after, seconds"] = round(time.monotonic() - killed_at, 1)
    published = eventually(lambda: all_opened(replicas, second), timeout=180)
    figures["batch 2: 120 patients, seconds (incl. failover)"] = round(
        time.monotonic() - started, 1
    )
    assert eventually(lambda: replicas.lag() == 0 or None, timeout=60)

    def alone() -> dict[str, set[tuple[str, int]]] | None:
        members = replicas.assignment()
        return members if len(members) == 1 else None

    assert list(eventually(alone).values()) == [every], "the survivor holds every partition"
    time.sleep(2)  # a repeated effect, had there been one, would now be on the topic
    published = replicas.published()
    assert_every_effect_once(published, first + second)
    figures["messages on casework's topic"] = len(published)
    print(f"\nscale-out figures: {json.dumps(figures)}")  # the report's figures


# -- the relay's lease, two relays on one store ----------------------------------------------


@dataclass
class Store:
    env: dict[str, str]
    leases: list[Lease]
    postgres: dict[str, Any] | None


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    name = f"carenet-relay:{uuid4()}"
    if request.param == "sqlite":
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "routing.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
        return Store(env, [FileLease(name, tmp_path / "routing.relay.lock") for _ in "ab"], None)
    database: dict[str, str] = request.getfixturevalue("postgres_database")
    connect = {
        "host": database["POSTGRES_HOST"],
        "port": int(database["POSTGRES_PORT"]),
        "user": database["POSTGRES_USER"],
        "password": database["POSTGRES_PASSWORD"],
        "dbname": database["POSTGRES_DBNAME"],
    }
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **database}
    return Store(env, [PostgresLease(name, connect) for _ in "ab"], connect)


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def until(probe: Any, timeout: float = 60) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await asyncio.to_thread(probe)):
            await asyncio.sleep(0.1)
        return result


def kill_session(connect: dict[str, Any], lease: Lease) -> int:
    """Terminate the PostgreSQL session that holds the lease, as a dropped connection would."""
    key = advisory_key(lease.name)
    with psycopg.connect(**connect, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        ).fetchall()
    return len(rows)


async def test_one_relay_publishes_and_the_standby_takes_over_when_the_holder_goes(
    store: Store, kafka_bootstrap: str
) -> None:
    namespace = f"it-{uuid4().hex[:8]}."
    await kafka.create_topics(kafka_bootstrap, namespace=namespace)
    topic = namespace + load_catalog().topic_of("routing").name
    apps = [RoutingApplication(store.env, to_integration_event) for _ in "ab"]
    directory = ReferenceDirectory.load(REPO / "reference/demo-directory.yaml")
    apps[0].load_directory(directory)
    # the first, once it has lost its lease, waits longer than the test before trying again
    relays = [
        OutboxRelay(app, topic, kafka_bootstrap, 0.05, lease=lease, lease_retry_seconds=retry)
        for app, lease, retry in zip(apps, store.leases, (300, 0.2), strict=True)
    ]
    first, second = relays

    def patients(n: int) -> list[UUID]:
        return [diagnosed(apps[0], "440305005") for _ in range(n)]

    async def published() -> list[Envelope[Any]]:
        return await read_topic(kafka_bootstrap, topic)

    async def published_for(expected: list[UUID]) -> list[Envelope[Any]]:
        async with asyncio.timeout(60):
            while True:
                messages = await published()
                if set(expected) <= {m.patient_id for m in messages}:
                    return messages
                await asyncio.sleep(0.1)

    try:
        before = patients(20)
        async with running(first) as first_task:
            await asyncio.wait_for(first.leading.wait(), 30)
            await published_for(before)
            async with running(second):
                await asyncio.wait_for(second.ready.wait(), 30)
                during = patients(20)
                await published_for(before + during)
                assert not second.leading.is_set(), "the standby waits"
                if store.postgres is None:
                    # the holder's process ends (a crash releases the file lock as the OS
                    # closes the file; here the task is cancelled)
                    first_task.cancel()
                else:
                    # the holder's connection dies while its process lives on
                    assert kill_session(store.postgres, first.lease) == 1
                after = patients(20)
                await asyncio.wait_for(second.leading.wait(), 30)
                messages = await published_for(before + during + after)
                assert not first.leading.is_set()
                await asyncio.sleep(1)  # a duplicate, had there been one, would now be there
                messages = await published()
        ids = Counter(m.event_id for m in messages)
        assert len(messages) == len(ids) == 60
        assert Counter(m.patient_id for m in messages) == dict.fromkeys(before + during + after, 1)
    finally:
        for relay in relays:
            await asyncio.to_thread(relay.lease.release)
        for app in apps:
            app.close()


# -- a read side on the shared store ---------------------------------------------------------


def test_two_audit_replicas_load_every_message_into_the_shared_index_once(
    kafka_bootstrap: str, shared_store: SharedStore
) -> None:
    """Each replica reads every partition (no group) and both write one index: the rows'
    primary key and the tracking record in the same transaction keep each message once."""
    network = SyntheticNetwork()
    patients = run_sync(produce(kafka_bootstrap, shared_store.namespace, network, 300, 2))
    total = len(patients) * 4 * 2
    env = shared_store.env
    persistence = {k: v for k, v in env.items() if k.startswith("CARENET_P")}
    index_env = store_env(persistence, shared_store.tmp_path)

    def indexed() -> int:
        factory = InfrastructureFactory.construct(index_env)  # type: ignore[var-annotated]
        try:
            return HistoryIndex.construct(factory).count()
        finally:
            factory.close()

    trusted = shared_store.tmp_path / "synthetic-jwks.json"
    trusted.write_text(network.key_set_json())
    processes = shared_store.replicas("audit")
    for process in processes:  # small batches: many transactions of the two writers interleave
        process.env = {
            **process.env,
            "CARENET_HISTORY_BATCH_SIZE": "25",
            "CARENET_TRUSTED_KEYS": str(trusted),
        }
    with started(processes):  # ready: each replica's index load has caught up
        assert indexed() == total
        logs = [_log(p) for p in processes]
        caught_up = [
            [e for e in log if e.get("event") == "batch consumer caught up"] for log in logs
        ]
        assert [[e["consumer"].endswith("-history") for e in c].count(True) for c in caught_up] == [
            1,
            1,
        ], "each replica loaded the topics"
        retried = [
            sum(e.get("event") == "storage unavailable, retrying" for e in log) for log in logs
        ]
        print(f"\naudit replicas: {total} messages, writes retried after a race: {retried}")


def _log(process: ServiceProcess) -> list[dict[str, Any]]:
    entries = []
    for line in process.log_path.read_text(errors="replace").splitlines():
        with suppress(ValueError):
            entries.append(json.loads(line))
    return entries


# -- replicas that start together on a new database -------------------------------------------


def test_replicas_starting_together_on_a_new_database_all_start(
    postgres_database: dict[str, str],
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **postgres_database}
    together = threading.Barrier(4)

    def start() -> RoutingApplication:
        together.wait()
        return RoutingApplication(env, to_integration_event)

    with ThreadPoolExecutor(4) as pool:
        apps = [pool.submit(start) for _ in range(4)]
        started_apps = [app.result(timeout=60) for app in apps]
    for app in started_apps:
        assert app.process_recorder.max_notification_id() is None
        app.close()
