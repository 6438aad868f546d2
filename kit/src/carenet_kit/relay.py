"""Outbox relay: copies the outbox's messages from the notification log to the service's topic.

Exactly once, without a two-phase commit: the relay publishes in notification order with an
idempotent producer (`acks=all`), choosing each message's partition itself from the patient
key. Kafka keeps each partition a gap-free prefix of what was sent to it, so after a crash
the relay reads the last notification id published on every partition and skips anything at
or below it. The relay's own position (stored as a tracking record after every acknowledged
batch) only says where to start reading.

Replicas of a service share one store, and only one of them may publish: the relay works while
it holds its lease (`carenet_kit.lease`) and waits as a standby otherwise. Each time it takes
the lease it reads again what is already on every partition, since the previous holder may have
published more since; before each batch it checks that it still holds the lease, and gives the
work up as soon as it does not. The relay is ready (`/readyz`) once it reaches the broker,
whether it holds the lease or not: a standby is a healthy replica.

The holder also signs checkpoints of how far each partition got (`carenet_kit.checkpoints`),
after the messages they cover are acknowledged, so that a stream cut short can be told; on
taking the lease it checkpoints the last message it finds on each partition as well.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import RecordMetadata
from eventsourcing.persistence import IntegrityError, Notification, PersistenceError, Tracking
from eventsourcing.utils import get_topic
from tenacity import AsyncRetrying, wait_exponential

from carenet_kit import fail_points, metrics
from carenet_kit.application import ServiceApplication
from carenet_kit.checkpoints import Checkpoints
from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity
from carenet_kit.lease import Lease, Unshared
from carenet_kit.outbox import PublishedStream
from carenet_kit.threads import in_thread
from carenet_kit.wire import NOTIFICATION_ID_HEADER, header, kafka_record

log = structlog.get_logger()

APPENDED_TOPIC = get_topic(PublishedStream.Appended)
PARTITION_CACHE = 65_536
"""Keys whose partition the relay remembers."""
PRODUCER_OPTIONS: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "linger_ms": 5,
    "max_batch_size": 512 * 1024,
}
"""The relay's producer: idempotent, acknowledged by every in-sync replica, and record batches
large enough that a read of the outbox leaves in one batch per partition (a partition's next
batch waits until its last one is on its way: small batches made the relay wait, not work).
Under the broker's default `message.max.bytes` (1 MiB)."""
LEADER_ONLY: dict[str, Any] = {"acks": 1, "enable_idempotence": False}
"""What a negative control turns the relay's producer into (the `relay-acks-all` guard off): a
write acknowledged by the partition's leader alone, lost if the leader dies before its
followers have it."""
LOOK_BACK = 500
"""Records read at a time, backwards, when a partition does not end with the relay's own."""
BACKLOG_SECONDS = 1.0
"""How often the lease holder measures its backlog (`carenet_outbox_backlog`)."""


@dataclass(frozen=True)
class RecordBatch:
    """Messages for one partition, sent as one Kafka record batch: the broker's acknowledgement
    gives the first one's offset, and the others follow it one by one."""

    partition: int
    acknowledged: asyncio.Future[RecordMetadata]
    digests: list[str]
    """The SHA-256 of each message, in the batch's order (for the checkpoints)."""


@dataclass(frozen=True)
class InFlight:
    """A read of the outbox sent and not yet acknowledged: its record batches and the
    notification id it ends at."""

    batches: list[RecordBatch]
    last_notification_id: int


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        topic: str,
        bootstrap: str,
        poll_seconds: float,
        batch_size: int = 500,
        security: KafkaSecurity = PLAINTEXT,
        lease: Lease | None = None,
        lease_retry_seconds: float = 1.0,
        checkpoint_topic: str | None = None,
        checkpoint_every: int = 1_000,
        checkpoint_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.topic = topic
        self.bootstrap = bootstrap
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.security = security
        self.position_name = f"outbox:{topic}"
        self.lease = lease or Unshared()
        self.lease_retry_seconds = lease_retry_seconds
        self.ready = asyncio.Event()
        """Set once the relay reaches the broker, lease or not."""
        self.leading = asyncio.Event()
        """Set while this relay holds the lease and publishes."""
        self._partitioner = DefaultPartitioner()
        self.checkpoint_topic = checkpoint_topic
        """Where checkpoints go; None: none are published (tests of other behaviour)."""
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self._acknowledged_position = 0
        """The last notification id the broker acknowledged (with the batch before it)."""

    async def run(self) -> None:
        if not fail_points.guarded("relay-lease"):  # a negative control: every replica publishes
            self.lease = Unshared()
        producer = await self._connect()
        try:
            partitions = sorted(await producer.partitions_for(self.topic))
            self.ready.set()
            metrics.RELAY_LEASE_HELD.labels(self.topic).set(0)
            while True:
                if not await in_thread(self.lease.acquire):
                    await asyncio.sleep(self.lease_retry_seconds)
                    continue
                self.leading.set()
                metrics.RELAY_LEASE_HELD.labels(self.topic).set(1)
                try:
                    await self._publish_while_leased(producer, partitions)
                finally:
                    self.leading.clear()
                    metrics.RELAY_LEASE_HELD.labels(self.topic).set(0)
                    metrics.OUTBOX_BACKLOG.labels(self.topic).set(0)  # the holder's to say
                log.warning("relay lease lost", topic=self.topic, lease=self.lease.name)
                await asyncio.sleep(self.lease_retry_seconds)  # a standby's turn first
        finally:
            self.ready.clear()
            await in_thread(self.lease.release)
            await producer.stop()

    async def _publish_while_leased(
        self, producer: AIOKafkaProducer, partitions: list[int]
    ) -> None:
        """Publish until the lease is lost (returns) or the task is cancelled."""
        checkpoints = Checkpoints(
            self.app.signer, self.topic, self.checkpoint_every, self.checkpoint_seconds
        )
        already_published = await self._last_published(partitions, checkpoints)
        position = await in_thread(self.app.process_recorder.max_tracking_id, self.position_name)
        log.info("relay lease taken", topic=self.topic, lease=self.lease.name, position=position)
        # a patient's messages come in runs: the key's partition is hashed once (murmur2 is
        # pure Python in aiokafka), and the cache is bounded
        partition_of = lru_cache(maxsize=PARTITION_CACHE)(
            lambda key: self._partitioner(key, partitions, partitions)
        )
        self._acknowledged_position = position or 0
        watching = asyncio.create_task(self._watch_backlog())
        try:
            await self._publish(producer, checkpoints, already_published, partition_of)
        finally:
            watching.cancel()
            await asyncio.wait([watching])  # its read of the store ends before the relay does

    async def _publish(
        self,
        producer: AIOKafkaProducer,
        checkpoints: Checkpoints,
        already_published: dict[int, int],
        partition_of: Callable[[bytes], int],
    ) -> None:
        position = self._acknowledged_position
        in_flight: InFlight | None = None
        while True:
            notifications = await in_thread(self._read_after, position)
            if not notifications:
                if not await self._acknowledged(in_flight, producer, checkpoints):
                    return
                in_flight = None
                await self._checkpoint(producer, checkpoints)
                await asyncio.sleep(self.poll_seconds)
                continue
            if not await in_thread(self.lease.held):
                await self._acknowledged(in_flight, producer, checkpoints)  # sent while held
                return
            batches = await self._send(producer, notifications, already_published, partition_of)
            # this read is on its way: the previous one's acknowledgements are awaited now,
            # while the next one is read, so reading and sending overlap
            if not await self._acknowledged(in_flight, producer, checkpoints):
                return
            in_flight = InFlight(batches, notifications[-1].id)
            position = notifications[-1].id

    async def _send(
        self,
        producer: AIOKafkaProducer,
        notifications: list[Notification],
        already_published: dict[int, int],
        partition_of: Callable[[bytes], int],
    ) -> list[RecordBatch]:
        """Send a read of the outbox as record batches, one partition's messages in
        notification order, skipping what the partition holds already. A record batch is
        built by the client library (`create_batch`) and sent whole: one future per batch,
        not one per message."""
        building: dict[int, tuple[BatchBuilder, list[str]]] = {}
        sent: list[RecordBatch] = []
        for notification in notifications:
            appended = self.app.mapper.to_domain_event(notification)
            assert isinstance(appended, PublishedStream.Appended)
            message = appended.message
            key, headers = kafka_record(
                message, notification.id, appended.signed, appended.traceparent
            )
            partition = partition_of(key)
            if notification.id <= already_published.get(partition, 0) and fail_points.guarded(
                "relay-skip"
            ):
                continue
            value = message.encode()
            if partition not in building:
                building[partition] = (producer.create_batch(), [])
            builder, digests = building[partition]
            if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
                # full: it leaves, and the message starts the partition's next batch
                sent.append(await self._send_batch(producer, partition, builder, digests))
                builder, digests = building[partition] = (producer.create_batch(), [])
                taken = builder.append(key=key, value=value, timestamp=None, headers=headers)
                assert taken is not None  # an empty batch takes any one message
            digests.append(appended.digest)
        for partition, (builder, digests) in building.items():
            sent.append(await self._send_batch(producer, partition, builder, digests))
        return sent

    async def _send_batch(
        self, producer: AIOKafkaProducer, partition: int, builder: BatchBuilder, digests: list[str]
    ) -> RecordBatch:
        acknowledged = await producer.send_batch(builder, self.topic, partition=partition)
        return RecordBatch(partition, acknowledged, digests)

    async def _acknowledged(
        self, in_flight: InFlight | None, producer: AIOKafkaProducer, checkpoints: Checkpoints
    ) -> bool:
        """Wait for a batch's acknowledgements (if one is in flight), checkpoint it and record
        the relay's position; False if another replica recorded that position already (it took
        the lease)."""
        if in_flight is None:
            return True
        for seen, batch in enumerate(in_flight.batches, start=1):
            first = (await batch.acknowledged).offset
            if seen < len(in_flight.batches):  # more of the read to come
                fail_points.reached("relay.partly-acknowledged")
            for offset, digest in enumerate(batch.digests, start=first):
                checkpoints.published(batch.partition, offset, digest)
            metrics.EVENTS_PRODUCED.labels(self.topic).inc(len(batch.digests))
        await self._checkpoint(producer, checkpoints)
        fail_points.reached("relay.acknowledged")
        try:
            await in_thread(
                self.app.process_recorder.insert_tracking,
                Tracking(self.position_name, in_flight.last_notification_id),
            )
        except IntegrityError:
            return False
        self._acknowledged_position = in_flight.last_notification_id
        return True

    async def _watch_backlog(self) -> None:
        """What the outbox holds after the last acknowledged batch (at most a batch), measured
        apart from the publishing loop: that loop waits as long as the brokers do not answer,
        and the backlog must rise meanwhile."""
        while True:
            with suppress(PersistenceError):  # the store is away: the publishing loop says so
                unpublished = await in_thread(self._read_after, self._acknowledged_position)
                metrics.OUTBOX_BACKLOG.labels(self.topic).set(len(unpublished))
            await asyncio.sleep(BACKLOG_SECONDS)

    async def _checkpoint(self, producer: AIOKafkaProducer, checkpoints: Checkpoints) -> None:
        """Publish the checkpoints that are due (their messages are acknowledged already)."""
        if self.checkpoint_topic is None:
            return
        sends = [
            await producer.send(self.checkpoint_topic, value=value, key=key, headers=headers)
            for key, value, headers in checkpoints.due()
        ]
        await asyncio.gather(*sends)

    async def _connect(self) -> AIOKafkaProducer:
        """An idempotent producer; waits for the broker rather than fail the service."""
        async for attempt in AsyncRetrying(wait=wait_exponential(max=10)):
            with attempt:
                options = PRODUCER_OPTIONS | (
                    {} if fail_points.guarded("relay-acks-all") else LEADER_ONLY
                )
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    **options,
                    **self.security.client_options(),
                )
                try:
                    await producer.start()
                except Exception:
                    await producer.stop()
                    raise
        return producer

    def _read_after(self, position: int) -> list[Notification]:
        return list(
            self.app.process_recorder.select_notifications(
                position,
                self.batch_size,
                topics=[APPENDED_TOPIC],
                inclusive_of_start=False,
            )
        )

    async def _last_published(
        self, partitions: list[int], checkpoints: Checkpoints
    ) -> dict[int, int]:
        """The notification id of the last message this relay published on each partition (and
        that message, to be checkpointed: the previous holder may not have done it)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            **self.security.client_options(),
        )
        await consumer.start()
        try:
            assigned = [TopicPartition(self.topic, p) for p in partitions]
            consumer.assign(assigned)
            ends = await consumer.end_offsets(assigned)
            last: dict[int, int] = {}
            for tp, end in ends.items():
                if (own := await self._last_own(consumer, tp, end)) is None:
                    continue
                offset, notification_id, value = own
                last[tp.partition] = notification_id
                checkpoints.published(tp.partition, offset, hashlib.sha256(value).hexdigest())
            return last
        finally:
            await consumer.stop()

    async def _last_own(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, end: int
    ) -> tuple[int, int, bytes] | None:
        """The offset, notification id and value of the partition's last record that this
        relay's store published: one whose notification id names an outbox message here with
        the record's very digest. Whatever else a partition ends with (a message another client
        wrote, forged, garbled, or naming a notification id it has no right to) is walked past:
        trusted, it would stop the relay, or make it skip messages never published."""
        upper = end
        while upper > 0:
            lower = max(0, upper - LOOK_BACK)
            for record in reversed(await _records_between(consumer, tp, lower, upper)):
                named = header(list(record.headers), NOTIFICATION_ID_HEADER)
                value = record.value or b""
                if (
                    named is not None
                    and named.isdigit()
                    and await in_thread(self._published_here, int(named), value)
                ):
                    return record.offset, int(named), value
            upper = lower
        return None

    def _published_here(self, notification_id: int, value: bytes) -> bool:
        """Whether the outbox's message `notification_id` is exactly `value`."""
        found = self.app.process_recorder.select_notifications(
            notification_id, 1, topics=[APPENDED_TOPIC]
        )
        if not found or found[0].id != notification_id:
            return False
        appended = self.app.mapper.to_domain_event(found[0])
        assert isinstance(appended, PublishedStream.Appended)
        return appended.digest == hashlib.sha256(value).hexdigest()


async def _records_between(
    consumer: AIOKafkaConsumer, tp: TopicPartition, lower: int, upper: int
) -> list[Any]:
    """The partition's records from offset `lower` up to (not including) `upper`."""
    consumer.seek(tp, lower)
    records: list[Any] = []
    while not records or records[-1].offset < upper - 1:
        fetched = (await consumer.getmany(tp, timeout_ms=10_000)).get(tp, [])
        if not fetched:
            if records:
                break  # the rest was deleted or compacted away
            raise RuntimeError(f"cannot read {tp} from offset {lower}")
        records.extend(fetched)
    return [r for r in records if r.offset < upper]
