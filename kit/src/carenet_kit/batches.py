"""Inbound in batches, for read models that take in whole topics: many messages per transaction.

The kit's `InboundConsumer` runs one command per message, which is right for a service that
decides something about each event and far too slow for a read model that loads every topic.
`BatchConsumer` reads each partition with aiokafka's `getmany` from the position its sink has
tracked, and hands what one `getmany` returned to the sink as one `PartitionBatch` per partition,
each with ONE tracking record (topic:partition, last offset): the sink writes them all, rows
and tracking records, in ONE transaction (a commit waits for the disk; a fetch spans many
partitions). There is no consumer group: the sink's tracking records are the only positions,
so a restart resumes exactly where the last committed batch ended, and a message delivered
twice finds its offset tracked (`untracked`).

Every message is admitted as the inbound consumer's are (`carenet_kit.admission`): the sink
gets only messages proven to be the next of their (producer, patient) stream, and keeps each
stream's position, which the batch's tracking record carries (`StreamTracking`). The
signatures of a fetch are checked through the streams' hash chains (`carenet_kit.chain_cover`):
the last message of each stream's run in the fetch is verified, and its signature proves the
earlier ones, every link being checked; a fetch in which that finds any problem is judged again
with every message's own signature checked, so that what is refused is exactly what the full
check refuses. A first start reading a province's history verifies a few signatures per
patient instead of every message's (about 130 µs each on this project's machines). A message
refused, or genuine but not a valid contract, goes to the dead-letter topic with its reason
before the batch that skips it is committed, so nothing is dropped silently; but only from the
one reader of the service that `reports` its topic (`carenet_kit.runtime`): the others count it
in `carenet_messages_refused_total` and skip it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from eventsourcing.persistence import PersistenceError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from carenet_contracts import Envelope
from carenet_kit import metrics
from carenet_kit.admission import (
    Admitted,
    Authentic,
    Gate,
    Inadmissible,
    Stream,
    StreamPosition,
    StreamTracking,
    follow,
)
from carenet_kit.chain_cover import ChainCover
from carenet_kit.dead_letters import DeadLetters
from carenet_kit.inspection import Record as Inspectable
from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity
from carenet_kit.threads import in_thread
from carenet_kit.wire import Headers

log = structlog.get_logger()

Record: TypeAlias = ConsumerRecord[bytes, bytes]
"""aiokafka's record: topic, partition, offset, key, value, headers."""


@dataclass(frozen=True)
class Delivered:
    """A message that is a valid contract, as it lay on the broker and as it reads."""

    record: Record
    envelope: Envelope[Any]


@dataclass(frozen=True)
class PartitionBatch:
    """One partition's messages from a fetch, and the tracking record of its last offset (with
    the positions of the streams they moved)."""

    messages: Sequence[Delivered]
    tracking: StreamTracking


class Untracked(NamedTuple):
    """What a sink is to write of one partition's batch."""

    messages: list[Delivered]
    """The messages after the partition's tracked offset."""
    tracking: StreamTracking


class BatchSink(Protocol):
    """Where batches go: a tracking recorder that also writes the read model's rows."""

    def max_tracking_id(self, application_name: str) -> int | None: ...

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        """The last position the sink took from each of these streams (absent: none yet)."""

    def write(self, batches: Sequence[PartitionBatch]) -> None:
        """Store every partition's messages, tracking record and streams' positions in one
        transaction; skip what is already tracked (`untracked`)."""


def untracked(
    batches: Sequence[PartitionBatch], tracked_offset: Callable[[str], int | None]
) -> list[Untracked]:
    """Per partition, what a sink writes: what lies after its tracked offset (`tracked_offset`,
    read in the write's transaction), none of a partition tracked up to its batch's end."""
    found = []
    for batch in batches:
        tracked = tracked_offset(batch.tracking.application_name)
        if tracked is None or tracked < batch.tracking.notification_id:
            after = [m for m in batch.messages if tracked is None or m.record.offset > tracked]
            found.append(Untracked(after, batch.tracking))
    return found


@dataclass
class Judged:
    """One partition's batch after admission: what the sink takes, what is dead-lettered."""

    delivered: list[Delivered] = field(default_factory=list)
    refused: list[tuple[Record, str, str]] = field(default_factory=list)
    """(record, reason label, text) of each message not to be acted on."""
    positions: dict[Stream, StreamPosition] = field(default_factory=dict)
    """The streams' positions after the batch."""


def tracking_name(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


class BatchConsumer:
    def __init__(
        self,
        name: str,
        bootstrap: str,
        topics: Sequence[str],
        sink: BatchSink,
        dead_letter_topic: str,
        gate: Gate,
        max_records: int = 2_000,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self.name = name
        self.gate = gate
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.sink = sink
        self.dead_letter_topic = dead_letter_topic
        self.dead_letters = DeadLetters(name, name)
        self.max_records = max_records
        self.security = security
        self.reports = set(self.topics)
        """The topics whose refused messages this reader dead-letters (the service narrows it,
        so that each is dead-lettered once per service)."""
        self.ready = asyncio.Event()
        """Set once every partition is assigned at its tracked position."""
        self.caught_up = asyncio.Event()
        """Set once every partition has reached the end it had when the consumer started."""

    async def run(self) -> None:
        consumer, producer = await self._connect()
        try:
            ends = await self._start_at_tracked_positions(consumer)
            self.ready.set()
            log.info("batch consumer started", consumer=self.name, partitions=len(ends))
            while True:
                fetched = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
                fetched = {tp: records for tp, records in fetched.items() if records}
                if fetched:
                    await self._take(producer, fetched)
                for tp, records in fetched.items():
                    metrics.EVENTS_CONSUMED.labels(self.name, tp.topic).inc(len(records))
                await self._record_lag(consumer, ends)
                if not self.caught_up.is_set() and await _reached(consumer, ends):
                    self.caught_up.set()
                    log.info("batch consumer caught up", consumer=self.name)
        finally:
            self.ready.clear()
            await consumer.stop()
            await producer.stop()

    async def _record_lag(
        self, consumer: AIOKafkaConsumer, partitions: dict[TopicPartition, int]
    ) -> None:
        """Each partition's lag from what the last fetch learnt of its end (no broker call)."""
        ends = {tp: consumer.highwater(tp) for tp in partitions}
        known = {tp: end for tp, end in ends.items() if end is not None}
        metrics.record_lag(self.name, known, {tp: await consumer.position(tp) for tp in known})

    async def _connect(self) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
        """Waits for the broker rather than fail the service."""
        async for attempt in AsyncRetrying(wait=wait_exponential(max=10)):
            with attempt:
                consumer = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    max_partition_fetch_bytes=8 * 1024 * 1024,
                    **self.security.client_options(),
                )
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    **self.security.client_options(),
                )
                try:
                    await consumer.start()
                    await producer.start()
                except Exception:
                    await consumer.stop()
                    await producer.stop()
                    raise
        return consumer, producer

    async def _start_at_tracked_positions(
        self, consumer: AIOKafkaConsumer
    ) -> dict[TopicPartition, int]:
        # `consumer.topics()` fetches the metadata but keeps it from `partitions_for_topic`
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        missing = set(self.topics) - {tp.topic for tp in partitions}
        if missing:
            raise RuntimeError(f"topics do not exist: {sorted(missing)}")
        consumer.assign(partitions)
        for tp in partitions:
            tracked = await in_thread(
                self.sink.max_tracking_id, tracking_name(tp.topic, tp.partition)
            )
            consumer.seek(tp, 0 if tracked is None else tracked + 1)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends

    async def _take(
        self, producer: AIOKafkaProducer, fetched: dict[TopicPartition, list[Record]]
    ) -> None:
        """Judge every partition's records, dead-letter the refused, write the rest at once."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(PersistenceError),
            wait=wait_exponential(max=10),
            before_sleep=lambda state: log.warning("storage unavailable, retrying"),
        ):
            with attempt:  # judged again on a retry: another writer may have moved the streams
                judged = await in_thread(self._judge_all, fetched)
                batches = []
                for (tp, records), partition in zip(fetched.items(), judged, strict=True):
                    for record, reason, text in partition.refused:
                        await self._refuse(producer, record, reason, text)
                    tracking = StreamTracking(
                        tracking_name(tp.topic, tp.partition),
                        records[-1].offset,
                        tuple(partition.positions.values()),
                    )
                    batches.append(PartitionBatch(partition.delivered, tracking))
                await in_thread(self.sink.write, batches)

    def _judge_all(self, fetched: dict[TopicPartition, list[Record]]) -> list[Judged]:
        """Every partition's records judged with the signatures checked through the chains;
        judged again with every signature checked if that refused anything or found a
        signature that does not verify."""
        if self.gate.inspector is not None:
            cover = ChainCover(self.gate.inspector.trusted)
            judged = [
                self._judge(tracking_name(tp.topic, tp.partition), records, cover)
                for tp, records in fetched.items()
            ]
            cover.finish()
            if cover.altered == 0 and not any(partition.refused for partition in judged):
                return judged
        return [
            self._judge(tracking_name(tp.topic, tp.partition), records, None)
            for tp, records in fetched.items()
        ]

    def _judge(self, name: str, records: list[Record], cover: ChainCover | None) -> Judged:
        """Admit the records the sink has not tracked yet, in order, stream by stream: each on
        its own first, then their streams' positions in one read, then each in its stream.
        With a `cover`, each message admitted is noted in it instead of having its own
        signature checked: the judgement holds only if the cover then finishes clean."""
        tracked = self.sink.max_tracking_id(name)
        inspected = [
            (record, inspectable, self.gate.inspect(inspectable, verify_signature=cover is None))
            for record in records
            if tracked is None or record.offset > tracked
            for inspectable in (_inspectable(record),)
        ]
        known = self.sink.stream_positions(
            {found.stream for _, _, found in inspected if isinstance(found, Authentic)}
        )
        judged = Judged()
        for record, inspectable, found in inspected:
            if isinstance(found, Inadmissible):
                judged.refused.append((record, found.reason, found.text))
                continue
            verdict = follow(found, judged.positions.get(found.stream) or known.get(found.stream))
            if isinstance(verdict, Inadmissible):
                judged.refused.append((record, verdict.reason, verdict.text))
            elif isinstance(verdict, Admitted):
                if cover is not None:
                    cover.note(found.message, inspectable)
                judged.positions[verdict.position.stream] = verdict.position
                if verdict.envelope is None:
                    text = f"contract: {verdict.contract_error}"
                    judged.refused.append((record, "contract", text))
                else:
                    judged.delivered.append(Delivered(record, verdict.envelope))
        return judged

    async def _refuse(
        self, producer: AIOKafkaProducer, record: Record, reason: str, text: str
    ) -> None:
        if reason != "contract":
            metrics.MESSAGES_REFUSED.labels(self.name, record.topic, reason).inc()
        if record.topic in self.reports:

            async def send(key: bytes | None, value: bytes, headers: Headers) -> None:
                await producer.send_and_wait(
                    self.dead_letter_topic, value, key=key, headers=headers
                )

            await self.dead_letters.send(send, _inspectable(record), reason, text)


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


def _inspectable(record: Record) -> Inspectable:
    return Inspectable(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value or b"",
        list(record.headers),
    )
