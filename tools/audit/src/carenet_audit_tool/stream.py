"""Reading CareNet's topics from the beginning, in batches, up to where they ended at the start.

Each (producer, patient) stream lies in one partition, so reading each partition in order
reads every stream in order; partitions are interleaved, which the verifier does not mind.
Memory stays flat: a batch is handed on and dropped before the next is fetched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from carenet_kit.inspection import Record


class ReplayError(Exception):
    """The replay could not run; the text says why (no traceback for the auditor)."""


class TopicReader:
    """Every message of `topics` from offset 0 to the end offsets seen when `open()` ran."""

    def __init__(self, bootstrap: str, topics: Sequence[str], max_records: int = 5_000) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.max_records = max_records
        self.ends: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def total(self) -> int:
        """How many messages the read will yield (for a progress bar)."""
        return sum(self.ends.values())

    async def open(self, ends: Mapping[TopicPartition, int] | None = None) -> None:
        """Assign every partition and fix where the read ends: where the partitions end now,
        or `ends` (those of an earlier read, to read exactly the same records again)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            # assign() starts a reset of its own; with "latest" it could land after the seek
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        # `topics()` fetches every topic's metadata but does not keep it in the consumer's
        # view, which its own refreshes may leave without our topics: read the fetched one
        cluster = await consumer._client.fetch_all_metadata()
        missing = [t for t in self.topics if not cluster.partitions_for_topic(t)]
        if missing:
            await consumer.stop()
            raise LookupError(f"no such topic on the broker: {', '.join(missing)}")
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        if ends is None:
            ends = await consumer.end_offsets(partitions)
        self.ends = {tp: ends.get(tp, 0) for tp in partitions}
        await consumer.seek_to_beginning(*partitions)
        self._consumer = consumer

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def batches(self) -> AsyncIterator[list[Record]]:
        assert self._consumer is not None, "open() first"
        consumer = self._consumer
        remaining = {tp for tp, end in self.ends.items() if end > 0}
        consumer.pause(*(set(self.ends) - remaining))
        while remaining:
            fetched = await consumer.getmany(timeout_ms=1_000, max_records=self.max_records)
            batch: list[Record] = []
            for tp, messages in fetched.items():
                end = self.ends[tp]
                batch.extend(
                    Record(m.topic, m.partition, m.offset, m.key, m.value, list(m.headers))
                    for m in messages
                    if m.offset < end
                )
                if messages and messages[-1].offset >= end - 1:
                    remaining.discard(tp)
                    consumer.pause(tp)
            if batch:
                yield batch
