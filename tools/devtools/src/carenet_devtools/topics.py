"""Reading and rewinding CareNet topics: what tests, operators and auditors need from a broker.

On a secured broker, pass the credentials of a user the ACLs allow (`security`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from carenet_contracts import Envelope, parse_message
from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity


async def read_records(
    bootstrap: str, topic: str, security: KafkaSecurity = PLAINTEXT
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic from offset 0 to its current end, partition by partition."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **security.client_options()
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, [topic])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records.extend(batch.get(tp, []))
        return records
    finally:
        await consumer.stop()


async def read_topic(
    bootstrap: str, topic: str, security: KafkaSecurity = PLAINTEXT
) -> list[Envelope[Any]]:
    """Every message of a topic, parsed by its contract."""
    records = await read_records(bootstrap, topic, security)
    return [parse_message(r.value) for r in records if r.value]


async def rewind_consumer_group(
    bootstrap: str, group: str, topics: list[str], security: KafkaSecurity = PLAINTEXT
) -> None:
    """Commit offset 0 on every partition, so the group's next run replays the topics.

    The group must have no running member (stop the service first).
    """
    async with _group_client(bootstrap, group, security) as consumer:
        partitions = await _partitions(consumer, topics)
        consumer.assign(partitions)
        await consumer.commit(dict.fromkeys(partitions, 0))


async def set_consumer_group(
    bootstrap: str,
    group: str,
    offsets: Mapping[TopicPartition, int],
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Commit these offsets for the group (which must have no member: see `has_members`)."""
    async with _group_client(bootstrap, group, security) as consumer:
        consumer.assign(list(offsets))
        await consumer.commit(dict(offsets))


async def committed_offsets(
    bootstrap: str,
    group: str,
    partitions: Sequence[TopicPartition],
    security: KafkaSecurity = PLAINTEXT,
) -> dict[TopicPartition, int]:
    """The group's committed offset on each partition (0 where it has none)."""
    async with _group_client(bootstrap, group, security) as consumer:
        return {tp: (await consumer.committed(tp)) or 0 for tp in partitions}


async def has_members(bootstrap: str, group: str, security: KafkaSecurity = PLAINTEXT) -> bool:
    """Whether the group has a member. One killed stays one until its session times out."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.client_options())
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
        return any(g["members"] for r in responses for g in r.to_object()["groups"])
    finally:
        await admin.close()


@asynccontextmanager
async def _group_client(
    bootstrap: str, group: str, security: KafkaSecurity
) -> AsyncIterator[AIOKafkaConsumer]:
    """A client of the group that joins nothing: it only reads and commits offsets."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        **security.client_options(),
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def consumer_lag(
    bootstrap: str, group: str, topics: list[str], security: KafkaSecurity = PLAINTEXT
) -> int:
    """How many messages of the topics the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.client_options())
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **security.client_options()
    )
    await admin.start()
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topics)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        ends = await consumer.end_offsets(partitions)
        return sum(
            end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
            for tp, end in ends.items()
        )
    finally:
        await consumer.stop()
        await admin.close()


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    await consumer._client.force_metadata_update()
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer._client.cluster.partitions_for_topic(topic) or ())
    ]
