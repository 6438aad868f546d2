"""The access graph kept in the service's store (SQLite, then PostgreSQL), against the real broker.

A restart reads only what was published since the last batch it stored, counted by the
messages its loader verified, and ends with the relations a rebuild from offset 0 gets. Two
replicas on one PostgreSQL schema load the same topics without failing each other, and one
that finds messages already stored by the other does not answer from its cache any more.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import InfrastructureFactory

from bench.consumer import partition_ends
from bench.synthetic import Message, SyntheticNetwork
from carenet_access.graph import SOURCES, AccessGraph
from carenet_devtools import kafka
from carenet_devtools.postgres import PostgresCluster, create_database
from carenet_kit.admission import Authentic, Gate, Inadmissible, Stream, StreamPosition
from carenet_kit.batches import BatchConsumer, BatchSink, PartitionBatch, tracking_name
from carenet_kit.inspection import Record
from carenet_kit.topics import DEAD_LETTER_TOPIC, load_catalog

EVENTS = 6
"""Per producer and patient: enough of each producer's examples to tell relations."""


class CountingGate(Gate):
    """Admission as the services have it, counting the messages it verifies."""

    def __init__(self, key_set: dict[str, Any], namespace: str) -> None:
        super().__init__(key_set, namespace)
        self.inspected = 0

    def inspect(self, record: Record, *, verify_signature: bool = True) -> Inadmissible | Authentic:
        self.inspected += 1
        return super().inspect(record, verify_signature=verify_signature)


class HeldSink:
    """A graph whose writes wait while `held`, noting each partition's last offset written."""

    def __init__(self, graph: AccessGraph) -> None:
        self.graph = graph
        self.released = threading.Event()
        self.released.set()
        self.written: dict[str, int] = {}

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.graph.max_tracking_id(application_name)

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        return self.graph.stream_positions(streams)

    def write(self, batches: Sequence[PartitionBatch]) -> None:
        self.released.wait()
        self.graph.write(batches)
        for batch in batches:
            self.written[batch.tracking.application_name] = batch.tracking.notification_id


class Topics:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.namespace = f"it-{uuid4().hex[:8]}."
        self.network = SyntheticNetwork()

    def name(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    async def last_offsets(self) -> dict[str, int]:
        """The last offset of each partition the graph reads, by its tracking name."""
        return {
            tracking_name(self.name(p), partition): end - 1
            for p in SOURCES
            for partition, end in (await partition_ends(self.bootstrap, self.name(p))).items()
            if end
        }

    async def handed(self, sink: HeldSink, before: dict[str, int]) -> None:
        """Wait until `sink` has written what the topics gained since `before`."""
        moved = {n: o for n, o in (await self.last_offsets()).items() if o != before.get(n)}
        async with asyncio.timeout(60):
            while any(sink.written.get(n) != o for n, o in moved.items()):
                await asyncio.sleep(0.1)

    def of(self, patients: Iterable[UUID], producers: Iterable[str]) -> list[Message]:
        wanted = set(producers)
        return [
            message
            for patient in patients
            for message in self.network.patient(patient, EVENTS)
            if message.producer in wanted
        ]

    async def publish(self, messages: Iterable[Message]) -> int:
        """Publish; how many of the messages are on the topics the graph reads."""
        read = {self.name(p) for p in SOURCES}
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            pending = [
                await producer.send(self.name(m.producer), m.value, m.key, headers=m.headers)
                for m in messages
            ]
            sent = [await future for future in pending]
        finally:
            await producer.stop()
        return sum(1 for record in sent if record.topic in read)

    @asynccontextmanager
    async def loading(self, sink: BatchSink) -> AsyncIterator[CountingGate]:
        """A loader running on `sink`, caught up with the topics' ends at its start."""
        gate = CountingGate(json.loads(self.network.key_set_json()), self.namespace)
        consumer = BatchConsumer(
            name=f"{self.namespace}test-access",
            bootstrap=self.bootstrap,
            topics=[self.name(p) for p in SOURCES],
            sink=sink,
            dead_letter_topic=self.namespace + DEAD_LETTER_TOPIC,
            gate=gate,
        )
        running = asyncio.create_task(consumer.run())
        caught_up = asyncio.create_task(consumer.caught_up.wait())
        try:
            await asyncio.wait({running, caught_up}, timeout=120, return_when="FIRST_COMPLETED")
            if running.done():
                running.result()  # the loader's failure
            assert caught_up.done(), "the loader did not catch up"
            yield gate
        finally:
            running.cancel()
            caught_up.cancel()
            await asyncio.gather(running, caught_up, return_exceptions=True)

    async def load(self, graph: AccessGraph) -> int:
        """Load until caught up; how many messages the loader verified."""
        async with self.loading(graph) as gate:
            return gate.inspected


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    found = Topics(kafka_bootstrap)
    await kafka.create_topics(kafka_bootstrap, namespace=found.namespace)
    return found


def postgres_env(request: pytest.FixtureRequest) -> dict[str, str]:
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"graph_{uuid4().hex[:12]}"
    create_database(cluster, name)
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **cluster.eventsourcing_env(name)}


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The settings of a service's own store, beside which its graph is kept."""
    if request.param == "sqlite":
        return sqlite_env(tmp_path / "service.sqlite")
    return postgres_env(request)


def graph_beside(env: dict[str, str]) -> AccessGraph:
    return AccessGraph.beside(InfrastructureFactory.construct(env))


async def test_a_restart_reads_only_what_was_published_since(
    topics: Topics, store_env: dict[str, str], tmp_path: Path
) -> None:
    whole, partial, later = ([uuid4() for _ in range(n)] for n in (12, 6, 6))
    before = await topics.publish([*topics.of(whole, SOURCES), *topics.of(partial, ["intake"])])
    first = graph_beside(store_env)
    try:
        assert await topics.load(first) == before
        partial_then = first.relations(partial[0])
    finally:
        first.close()

    since = await topics.publish(
        [*topics.of(partial, ["routing", "casework"]), *topics.of(later, SOURCES)]
    )
    restarted, rebuilt = graph_beside(store_env), graph_beside(sqlite_env(tmp_path / "new"))
    try:
        assert await topics.load(restarted) == since
        assert await topics.load(rebuilt) == before + since
        for patient in [*whole, *partial, *later]:
            assert restarted.relations(patient) is not None
            assert restarted.relations(patient) == rebuilt.relations(patient)
        assert restarted.relations(partial[0]) != partial_then  # folded onto the stored row
    finally:
        restarted.close()
        rebuilt.close()


async def test_replicas_on_one_schema_load_together_and_drop_what_the_other_changed(
    topics: Topics, request: pytest.FixtureRequest
) -> None:
    env = postgres_env(request)
    patients = [uuid4() for _ in range(8)]
    await topics.publish(topics.of(patients, ["intake"]))
    one, other = graph_beside(env), graph_beside(env)
    held = HeldSink(other)
    try:
        await asyncio.gather(topics.load(one), topics.load(other))  # the same batches at once
        async with topics.loading(held):
            cached = other.relations(patients[0])
            held.released.clear()  # `other`'s loader waits with what it reads...
            before = await topics.last_offsets()
            since = await topics.publish(topics.of(patients, ["routing", "casework"]))
            assert await topics.load(one) == since
            held.released.set()  # ...and finds it stored by `one`
            await topics.handed(held, before)
        assert other.relations(patients[0]) == one.relations(patients[0]) != cached
    finally:
        held.released.set()
        one.close()
        other.close()


async def test_what_the_loader_writes_is_read_at_once(
    topics: Topics, store_env: dict[str, str]
) -> None:
    patients = [uuid4() for _ in range(4)]
    await topics.publish(topics.of(patients, ["intake"]))
    graph = graph_beside(store_env)
    sink = HeldSink(graph)
    try:
        async with topics.loading(sink):
            cached = graph.relations(patients[0])
            before = await topics.last_offsets()
            await topics.publish(topics.of(patients, ["routing", "casework"]))
            await topics.handed(sink, before)
            assert graph.relations(patients[0]) != cached
    finally:
        graph.close()
