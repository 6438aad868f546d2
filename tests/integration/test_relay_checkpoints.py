"""The outbox relay signs checkpoints of how far each partition got, on the real broker, and
the replay holds the topic to them."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from carenet_audit_tool.replay import verify_stream
from carenet_audit_tool.stream import TopicReader
from carenet_contracts.checkpoint import StreamCheckpoint
from carenet_devtools import kafka
from carenet_kit.inspection import Record
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.relay import APPENDED_TOPIC, OutboxRelay
from carenet_kit.signing import TrustedKeys, key_set
from carenet_kit.topics import CHECKPOINT_TOPIC, load_catalog
from carenet_kit.wire import NOTIFICATION_ID_HEADER, header
from carenet_routing.application import RoutingApplication
from carenet_routing.outbox import to_integration_event

from .test_routing_deadlines import diagnosed
from .test_scale_out import running

REPO = Path(__file__).parents[2]


def routing(tmp_path: Path) -> RoutingApplication:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "routing.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "10",
    }
    app = RoutingApplication(env, to_integration_event)
    app.load_directory(ReferenceDirectory.load(REPO / "reference/demo-directory.yaml"))
    return app


async def checkpointed_to_the_end(
    bootstrap: str, topic: str, checkpoints: str, at_least: int = 1, timeout: float = 60
) -> tuple[list[Record], dict[int, StreamCheckpoint]]:
    """The topic's records and each partition's latest checkpoint, once the topic holds
    `at_least` records and every partition's latest checkpoint covers its last record (polled,
    with a deadline)."""
    async with asyncio.timeout(timeout):
        while True:
            records = await read_records(bootstrap, topic)
            latest: dict[int, StreamCheckpoint] = {}
            for record in await read_records(bootstrap, checkpoints):
                checkpoint = StreamCheckpoint.model_validate_json(record.value)
                latest[checkpoint.partition] = checkpoint
            ends = {r.partition: r.offset for r in records}
            if len(records) >= at_least and {p: c.offset for p, c in latest.items()} == ends:
                return records, latest
            await asyncio.sleep(0.1)


async def test_the_relay_checkpoints_each_partition_and_the_replay_verifies_them(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    namespace = f"it-{uuid4().hex[:8]}."
    await kafka.create_topics(kafka_bootstrap, namespace=namespace)
    topic = namespace + load_catalog().topic_of("routing").name
    checkpoints = namespace + CHECKPOINT_TOPIC
    app = routing(tmp_path)
    relay = OutboxRelay(
        app,
        topic,
        kafka_bootstrap,
        0.05,
        checkpoint_topic=checkpoints,
        checkpoint_every=4,
        checkpoint_seconds=0.5,
    )
    trusted = TrustedKeys(key_set([app.signer.public_jwk()]))
    try:
        for _ in range(12):
            diagnosed(app, "440305005")
        async with running(relay):
            first, _ = await checkpointed_to_the_end(kafka_bootstrap, topic, checkpoints)
            for _ in range(12):  # more while it runs: the checkpoints follow the ends
                diagnosed(app, "440305005")
            # each patient of the region gives the same messages: wait for the second dozen's
            records, latest = await checkpointed_to_the_end(
                kafka_bootstrap, topic, checkpoints, at_least=2 * len(first)
            )
    finally:
        app.close()

    last = {r.partition: r for r in records}
    for partition, checkpoint in latest.items():
        record = last[partition]
        assert checkpoint.value_sha256 == hashlib.sha256(record.value).hexdigest()
        assert (checkpoint.producer, checkpoint.topic) == ("routing", topic)
        assert checkpoint.count == record.offset + 1
    published = await read_records(kafka_bootstrap, checkpoints)
    for record in published:
        checkpoint = StreamCheckpoint.model_validate_json(record.value)
        assert record.key == checkpoint.partition_key.encode()
        assert trusted.problem_with("routing", record.value, record.signature) is None
    report = await verify_stream(kafka_bootstrap, key_set([app.signer.public_jwk()]), namespace)
    assert report.clean, report.problems
    assert report.summary.checkpoints == len(published) > len(latest)


async def test_a_relay_taking_the_lease_checkpoints_what_it_finds(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """What an earlier holder published and never checkpointed (it crashed, or predates
    checkpoints) is checkpointed by the next holder, which publishes nothing new."""
    namespace = f"it-{uuid4().hex[:8]}."
    await kafka.create_topics(kafka_bootstrap, namespace=namespace)
    topic = namespace + load_catalog().topic_of("routing").name
    checkpoints = namespace + CHECKPOINT_TOPIC
    app = routing(tmp_path)
    try:
        for _ in range(8):
            diagnosed(app, "440305005")
        unchecked = OutboxRelay(app, topic, kafka_bootstrap, 0.05)
        recorder = app.process_recorder
        async with running(unchecked), asyncio.timeout(60):
            while (recorder.max_tracking_id(unchecked.position_name) or 0) < (
                recorder.max_notification_id() or 0
            ):
                await asyncio.sleep(0.1)
        published = await read_records(kafka_bootstrap, topic)
        assert await read_records(kafka_bootstrap, checkpoints) == []
        successor = OutboxRelay(
            app, topic, kafka_bootstrap, 0.05, checkpoint_topic=checkpoints, checkpoint_seconds=0.2
        )
        async with running(successor):
            records, _ = await checkpointed_to_the_end(kafka_bootstrap, topic, checkpoints)
    finally:
        app.close()
    assert len(records) == len(published) >= 8


async def test_a_relay_whose_position_was_never_recorded_publishes_nothing_twice(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay overlaps batches (the next is read and sent while the last one's
    acknowledgements come), so its recorded position may lag what is on the topic by two
    batches; a relay that crashed before recording any position is the extreme. The next one
    reads each partition's last notification id and sends only what comes after: judged by the
    topic's offsets, every outbox message is on it once."""
    namespace = f"it-{uuid4().hex[:8]}."
    await kafka.create_topics(kafka_bootstrap, namespace=namespace)
    topic = namespace + load_catalog().topic_of("routing").name
    app = routing(tmp_path)
    recorder = app.process_recorder
    try:
        for _ in range(30):
            diagnosed(app, "440305005")
        outbox = len(recorder.select_notifications(0, 10_000, topics=[APPENDED_TOPIC]))
        crashing = OutboxRelay(app, topic, kafka_bootstrap, 0.05, batch_size=7)
        with monkeypatch.context() as patched:  # it dies before it records a position
            patched.setattr(recorder, "insert_tracking", lambda tracking: None)
            async with running(crashing), asyncio.timeout(60):
                while len(await read_records(kafka_bootstrap, topic)) < outbox:
                    await asyncio.sleep(0.1)
        assert recorder.max_tracking_id(crashing.position_name) is None
        successor = OutboxRelay(app, topic, kafka_bootstrap, 0.05, batch_size=7)
        async with running(successor), asyncio.timeout(60):
            while (recorder.max_tracking_id(successor.position_name) or 0) < (
                recorder.max_notification_id() or 0
            ):
                await asyncio.sleep(0.1)
        records = await read_records(kafka_bootstrap, topic)
    finally:
        app.close()
    ids = Counter(header(list(r.headers), NOTIFICATION_ID_HEADER) for r in records)
    assert len(records) == len(ids) == outbox >= 30


async def read_records(bootstrap: str, topic: str) -> list[Record]:
    """Every record of the topic, as the auditor's replay reads them (once the broker's
    metadata shows the topic just created)."""
    reader = TopicReader(bootstrap, [topic])
    async with asyncio.timeout(30):
        while True:
            try:
                await reader.open()
                break
            except LookupError:
                await asyncio.sleep(0.1)
    try:
        return [r async for batch in reader.batches() for r in batch]
    finally:
        await reader.close()


async def test_a_relay_restarted_on_partitions_ending_in_others_messages_loses_and_repeats_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Another client wrote to the topic after the relay: garbage, and a forged record naming
    a notification id far ahead. The next relay walks past both to its own last message (the
    old one stopped at the garbage; one that trusted the forged header would skip, and so lose,
    every message up to that id)."""
    namespace = f"it-{uuid4().hex[:8]}."
    await kafka.create_topics(kafka_bootstrap, namespace=namespace)
    topic = namespace + load_catalog().topic_of("routing").name
    app = routing(tmp_path)
    recorder = app.process_recorder

    async def published_everything(relay: OutboxRelay) -> None:
        async with running(relay), asyncio.timeout(60):
            while (recorder.max_tracking_id(relay.position_name) or 0) < (
                recorder.max_notification_id() or 0
            ):
                await asyncio.sleep(0.1)

    try:
        for _ in range(10):
            diagnosed(app, "440305005")
        await published_everything(OutboxRelay(app, topic, kafka_bootstrap, 0.05))
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for partition in sorted(await producer.partitions_for(topic)):
                await producer.send_and_wait(topic, b"\x00garbage", partition=partition)
                await producer.send_and_wait(
                    topic,
                    b'{"forged": true}',
                    partition=partition,
                    headers=[(NOTIFICATION_ID_HEADER, b"999999")],
                )
        finally:
            await producer.stop()
        for _ in range(10):
            diagnosed(app, "440305005")
        await published_everything(OutboxRelay(app, topic, kafka_bootstrap, 0.05))
        outbox = [n.id for n in recorder.select_notifications(0, 10_000, topics=[APPENDED_TOPIC])]
        records = await read_records(kafka_bootstrap, topic)
    finally:
        app.close()
    own = Counter(
        header(list(r.headers), NOTIFICATION_ID_HEADER)
        for r in records
        if r.value not in {b"\x00garbage", b'{"forged": true}'}
    )
    assert max(own.values()) == 1
    assert sorted(map(int, own)) == outbox  # every one, once
