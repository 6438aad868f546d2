"""P2 consumer: effects per second of the kit's inbound path against getmany and one insert.

CareNet: casework's own application and policy behind the kit's `InboundConsumer` (a faust
agent): every `PatientRouted` (signed by a routing key the consumer trusts, the first of its
patient's stream) is admitted (verified: `carenet_kit.admission`), opens a case at the center
and assigns a case manager (domain events, outbox messages signed, the Kafka position and the
stream's position tracked) in one transaction.
Baseline: a bare `AIOKafkaConsumer` reading the same records with `getmany`, each batch
written to SQLite with one `executemany` and one commit.
Both are timed from the first message they take (the policy's first call; the first fetch) to
their last effect, so the consumer group's join (seconds, with faust) is left out: this is the
rate once consuming.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faust.contrib.asgi import faust_app_running

from bench.harness import DEMO_DIRECTORY, Bench, Row, partitions, topic
from carenet_casework.config import Settings
from carenet_casework.main import bootstrap
from carenet_contracts import Envelope
from carenet_devtools.keys import DevKeyring, HandMadeStreams
from carenet_kit.admission import Gate
from carenet_kit.application import ServiceApplication
from carenet_kit.inbound import InboundConsumer, Policy, faust_app
from carenet_kit.outbox import Cause
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.topics import DEAD_LETTER_TOPIC
from carenet_kit.wire import Headers

ROUTED = DEMO_DIRECTORY.parents[1] / "contracts" / "tests" / "messages" / "PatientRouted.v1.json"


@dataclass(frozen=True)
class Inbound:
    """A topic of signed `PatientRouted` in a namespace of its own, and the keys that trust it."""

    namespace: str
    name: str
    ends: dict[int, int]
    """Each partition's end offset once written."""
    keyring: DevKeyring

    def gate(self) -> Gate:
        """A consumer's admission on the namespace, trusting the keyring's producers."""
        return Gate(json.loads(self.keyring.key_set_path.read_text()), self.namespace)


def routed_messages(count: int, keyring: DevKeyring) -> list[tuple[bytes, bytes, Headers]]:
    """`count` PatientRouted messages (the contract's example), one new patient each, signed
    with the keyring's routing key and recorded after that key was made (inside its validity)."""
    example = json.loads(ROUTED.read_bytes())
    center = example["data"]["center_id"]
    [workers] = [
        c.social_workers for c in ReferenceDirectory.load(DEMO_DIRECTORY).centers if c.id == center
    ]
    example["data"]["social_worker_ids"] = list(workers)  # as routing's directory sends them
    keyring.signer("routing")  # made before the first message is stamped
    streams = HandMadeStreams(keyring)
    return [
        streams.next_of(
            "routing",
            {
                **example,
                "patient_id": str(uuid4()),
                "event_id": str(uuid4()),
                "correlation_id": str(uuid4()),
            },
        )
        for _ in range(count)
    ]


async def produce(bootstrap: str, name: str, count: int, keyring: DevKeyring) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(name, value, key, headers=headers)
            for key, value, headers in routed_messages(count, keyring)
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def partition_ends(bootstrap: str, name: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await partitions(consumer, name))
        return {tp.partition: end for tp, end in ends.items()}
    finally:
        await consumer.stop()


def tracked(app: ServiceApplication, name: str, ends: dict[int, int]) -> int:
    """How many of the topic's messages the application has tracked (offsets are dense)."""
    recorder = app.process_recorder
    positions = {p: recorder.max_tracking_id(f"{name}:{p}") for p in ends}
    return sum(0 if position is None else position + 1 for position in positions.values())


class FirstTaken:
    """A policy that notes when the first message reached it. A consumer's rate is timed from
    there to its last effect, as the raw baseline's is from its first fetch: not from the
    first effect seen, since a batch's effects appear together (`carenet_kit.group_commit`)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.at: float | None = None

    def __call__(self, envelope: Envelope[Any], cause: Cause) -> None:
        if self.at is None:
            self.at = time.perf_counter()
        self.policy(envelope, cause)


async def effects_timed(
    progress: Callable[[], int], total: int, taken: FirstTaken, timeout: float
) -> tuple[int, float]:
    """(messages, seconds) from the first message taken to the last effect, polling
    `progress`."""
    async with asyncio.timeout(timeout):
        while await asyncio.to_thread(progress) < total:
            await asyncio.sleep(0.01)
    assert taken.at is not None
    return total, time.perf_counter() - taken.at


async def through_agent(
    bench: Bench, app: ServiceApplication, policy: Policy, inbound: Inbound, timeout: float
) -> tuple[int, float]:
    """The kit's faust agent applying the topic with `policy`, in a consumer group of its own."""
    data = bench.directory("faust")
    stream_app = faust_app(f"bench-{uuid4().hex[:8]}", bench.bootstrap, data)
    dead_letters = inbound.namespace + DEAD_LETTER_TOPIC
    taken = FirstTaken(policy)
    InboundConsumer(stream_app, app, [inbound.name], dead_letters, taken, inbound.gate())
    total = sum(inbound.ends.values())
    async with faust_app_running(stream_app, stop_timeout=10):
        measured = await effects_timed(
            lambda: tracked(app, inbound.name, inbound.ends), total, taken, timeout
        )
    # a refused message is tracked too (after its copy is on the dead-letter topic): had any
    # been refused, the rate would be that of refusals
    refused = sum((await partition_ends(bench.bootstrap, dead_letters)).values())
    if refused:
        raise RuntimeError(f"{refused} of the messages were dead-lettered, not applied")
    return measured


async def raw_inserts(bootstrap: str, name: str, database: Path, total: int) -> tuple[int, float]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = await partitions(consumer, name)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        with closing(sqlite3.connect(database)) as db:
            db.execute(
                "CREATE TABLE inbound (topic TEXT, partition INTEGER, position INTEGER, "
                "value BLOB, PRIMARY KEY (topic, partition, position))"
            )
            done, start = 0, 0.0
            while done < total:
                fetched = await consumer.getmany(timeout_ms=1_000, max_records=500)
                rows = [
                    (r.topic, r.partition, r.offset, r.value)
                    for records in fetched.values()
                    for r in records
                ]
                if rows and not start:
                    start = time.perf_counter()
                db.executemany("INSERT INTO inbound VALUES (?, ?, ?, ?)", rows)
                db.commit()
                done += len(rows)
            return done, time.perf_counter() - start
    finally:
        await consumer.stop()


def inbound_topic(bench: Bench, count: int) -> Inbound:
    """A fresh namespace whose routing topic holds `count` signed PatientRouted."""
    namespace = bench.namespace()
    name, keyring = topic(namespace, "routing"), DevKeyring(bench.directory("keys"))
    asyncio.run(produce(bench.bootstrap, name, count, keyring))
    return Inbound(namespace, name, asyncio.run(partition_ends(bench.bootstrap, name)), keyring)


def run(bench: Bench, count: int, timeout: float) -> list[Row]:
    with bench.console.status(f"P2: writing {count:,} signed PatientRouted"):
        inbound = inbound_topic(bench, count)
    data = bench.directory("casework")
    service = bootstrap(
        Settings(
            data_dir=data,
            kafka_bootstrap=bench.bootstrap,
        )
    )
    assert service.policy is not None
    try:
        with bench.console.status("P2: casework's inbound consumer (faust agent)"):
            applied, seconds = asyncio.run(
                through_agent(bench, service.application, service.policy, inbound, timeout)
            )
    finally:
        service.application.close()
    with bench.console.status("P2: raw getmany + executemany"):
        inserted, raw_seconds = asyncio.run(
            raw_inserts(bench.bootstrap, inbound.name, data / "raw.sqlite", count)
        )
    rate, raw_rate = applied / seconds, inserted / raw_seconds
    return [
        Row(
            f"P2 consumer, {count:,} PatientRouted → casework opens a case",
            f"{rate:,.0f} effects/s",
            f"getmany + one executemany per batch (SQLite): {raw_rate:,.0f} msg/s",
            rate / raw_rate,
            "from the first message taken to the last effect; each message verified before it "
            "is applied; one center's caseload takes every case",
            {"effects_per_s": rate, "raw_per_s": raw_rate},
        )
    ]
