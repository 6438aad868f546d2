"""P1 relay: the kit's outbox relay against a bare idempotent producer of the same records.

A service store (SQLite) is filled with N outbox messages, genuinely signed and chained
(`PublishedStream`, as the services write them, ten per patient); the relay
(`carenet_kit.relay`) then copies them to the topic, from its start until the position it
records reaches the last message. The baseline sends the same keys, bytes, headers and
partitions with an `AIOKafkaProducer` configured as the relay's (`PRODUCER_OPTIONS`) to another
namespace, from its start until every send is acknowledged: once with a `send` per record, once
in record batches as the relay sends them; the relay is held to the faster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.harness import Bench, Row, topic
from bench.synthetic import RecordBatches, SyntheticNetwork
from carenet_contracts import Producer
from carenet_kit.application import ServiceApplication
from carenet_kit.outbox import Cause, Outgoing, PublishedStream
from carenet_kit.relay import APPENDED_TOPIC, PRODUCER_OPTIONS, OutboxRelay
from carenet_kit.wire import kafka_record

MESSAGES_PER_PATIENT = 10


class OutboxStore(ServiceApplication):
    """A service store with nothing but outbox streams: the relay's whole input."""

    producer: ClassVar[Producer] = "intake"


@dataclass(frozen=True)
class Record:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int


def fill(store: OutboxStore, messages: int) -> None:
    """`messages` signed outbox messages, ten per patient, a hundred patients per commit."""
    payloads = SyntheticNetwork().payloads["intake"]
    streams: list[PublishedStream] = []
    for n in range(0, messages, MESSAGES_PER_PATIENT):
        stream = PublishedStream("intake", uuid4())
        for k in range(min(MESSAGES_PER_PATIENT, messages - n)):
            outgoing = Outgoing(stream.patient_id, payloads[k % len(payloads)], datetime.now(UTC))
            stream.publish(outgoing, Cause.request(), store.signer)
        streams.append(stream)
        if len(streams) == 100:
            store.save(*streams)
            streams.clear()
    store.save(*streams)


def records(store: OutboxStore, partitions: int) -> list[Record]:
    """What the relay sends, as it computes it (key, headers, partition), read once up front."""
    chosen, ids = DefaultPartitioner(), list(range(partitions))
    found: list[Record] = []
    for notification in store.process_recorder.select_notifications(
        0, 10**9, topics=[APPENDED_TOPIC]
    ):
        appended = store.mapper.to_domain_event(notification)
        assert isinstance(appended, PublishedStream.Appended)
        key, headers = kafka_record(appended.message, notification.id, appended.signed)
        found.append(Record(key, appended.message.encode(), headers, chosen(key, ids, ids)))
    return found


async def relay_seconds(bench: Bench, store: OutboxStore, namespace: str, timeout: float) -> float:
    relay = OutboxRelay(store, topic(namespace, "intake"), bench.bootstrap, poll_seconds=0.01)
    last = store.process_recorder.max_notification_id() or 0
    start = time.perf_counter()
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(timeout):
            while (
                await asyncio.to_thread(store.process_recorder.max_tracking_id, relay.position_name)
                or 0
            ) < last:
                await asyncio.sleep(0.01)
        return time.perf_counter() - start
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def produce_seconds(bench: Bench, sent: list[Record], namespace: str) -> float:
    """The same records, one `send` each."""
    start = time.perf_counter()  # as the relay's figure, connecting included
    async with _producer(bench) as producer:
        name = topic(namespace, "intake")
        futures = [
            await producer.send(name, r.value, r.key, partition=r.partition, headers=r.headers)
            for r in sent
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - start


async def produce_batched_seconds(bench: Bench, sent: list[Record], namespace: str) -> float:
    """The same records as record batches (`create_batch`, `send_batch`), as the relay sends
    them: each partition's records appended in order, a batch sent when it is full."""
    start = time.perf_counter()  # as the relay's figure, connecting included
    async with _producer(bench) as producer:
        name = topic(namespace, "intake")
        batches = RecordBatches(producer)
        for r in sent:
            await batches.append(name, r.partition, r.key, r.value, r.headers)
        await batches.flush()
        return time.perf_counter() - start


@asynccontextmanager
async def _producer(bench: Bench) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=bench.bootstrap, **PRODUCER_OPTIONS)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def run(bench: Bench, messages: int, timeout: float) -> list[Row]:
    data = bench.directory("relay")
    store = OutboxStore(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(data / "store.db")},
        outbound=lambda _: None,
    )
    try:
        with bench.console.status(f"P1: writing {messages:,} signed outbox messages"):
            fill(store, messages)
        relay_namespace, raw_namespace, batched_namespace = (bench.namespace() for _ in range(3))
        partitions = len(
            asyncio.run(_partitions(bench.bootstrap, topic(relay_namespace, "intake")))
        )
        sent = records(store, partitions)
        size = sum(len(r.value) for r in sent) / len(sent)
        with bench.console.status("P1: relay"):
            relayed = asyncio.run(relay_seconds(bench, store, relay_namespace, timeout))
        with bench.console.status("P1: raw produce"):
            one_by_one = asyncio.run(produce_seconds(bench, sent, raw_namespace))
            batched = asyncio.run(produce_batched_seconds(bench, sent, batched_namespace))
    finally:
        store.close()
    relay_rate = messages / relayed
    send_rate, batch_rate = messages / one_by_one, messages / batched
    raw_rate = max(send_rate, batch_rate)  # the relay is held to the faster of the two
    return [
        Row(
            f"P1 relay, {messages:,} outbox messages (~{size:,.0f} B)",
            f"{relay_rate:,.0f} msg/s",
            f"aiokafka produce, acks=all, idempotent: {batch_rate:,.0f} msg/s in record "
            f"batches, {send_rate:,.0f} msg/s one send each",
            relay_rate / raw_rate,
            "store → topic until the relay's recorded position is the last message",
            {
                "relay_per_s": relay_rate,
                "raw_per_s": raw_rate,
                "raw_send_per_s": send_rate,
                "raw_batch_per_s": batch_rate,
            },
        )
    ]


async def _partitions(bootstrap: str, name: str) -> set[int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return set(await producer.partitions_for(name))
    finally:
        await producer.stop()
