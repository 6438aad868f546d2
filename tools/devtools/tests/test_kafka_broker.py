"""The test broker is a real Kafka: idempotent writes round-trip; topics are never auto-created."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import UnknownTopicOrPartitionError

from carenet_kit.topics import load_catalog

INTAKE = load_catalog().topic_of("intake")

pytestmark = pytest.mark.timeout(120)


async def test_idempotent_produce_then_consume(kafka_bootstrap: str) -> None:
    key, value = uuid.uuid4().bytes, b"admission"
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(INTAKE.name, value, key=key)
    finally:
        await producer.stop()

    partition = TopicPartition(INTAKE.name, sent.partition)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (record.key, record.value, record.offset) == (key, value, sent.offset)


async def test_topics_follow_the_spec(kafka_bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in load_catalog().topics])
    finally:
        await admin.close()
    partitions = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
    assert partitions == {t.name: t.partitions for t in load_catalog().topics}


async def test_unknown_topics_are_not_auto_created(kafka_bootstrap: str) -> None:
    unknown = f"carenet.test.unknown.{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, request_timeout_ms=3000)
    await producer.start()
    try:
        with pytest.raises(UnknownTopicOrPartitionError):
            await producer.send_and_wait(unknown, b"lost")
    finally:
        await producer.stop()

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([unknown])
        topics = await admin.list_topics()
    finally:
        await admin.close()
    assert described["error_code"] == UnknownTopicOrPartitionError.errno
    assert unknown not in topics
