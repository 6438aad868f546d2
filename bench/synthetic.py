"""A synthetic CareNet stream for benchmarks: real envelopes, really chained and signed.

Each patient gets a stream from every producer, sealed with the services' own outbox code
(`carenet_kit.outbox.seal`, what `PublishedStream.publish` appends) from the committed example
payloads, so the bytes are what the services would publish; only the number of patients and
events is made up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import RecordMetadata

from carenet_contracts import Payload, parse_message
from carenet_kit.outbox import Cause, Outgoing, seal
from carenet_kit.relay import PRODUCER_OPTIONS
from carenet_kit.signing import Signer, TrustedKeys, key_set
from carenet_kit.topics import load_catalog
from carenet_kit.wire import Headers, kafka_record

EXAMPLES = Path(__file__).parents[1] / "contracts" / "tests" / "messages"
PRODUCERS = ("intake", "routing", "casework", "notifications")


@dataclass(frozen=True)
class Message:
    producer: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class SyntheticNetwork:
    """Four producers with their own keys (new ones, or those of a run the services trust),
    and the key set that trusts them."""

    def __init__(self, signers: Mapping[str, Signer] | None = None) -> None:
        self.signers = {
            p: signers[p] if signers else Signer.generate(f"{p}-bench", p) for p in PRODUCERS
        }
        self.trusted = TrustedKeys(key_set([s.public_jwk() for s in self.signers.values()]))
        self.payloads: dict[str, list[Payload]] = {p: [] for p in PRODUCERS}
        for path in sorted(EXAMPLES.glob("*.json")):
            envelope = parse_message(path.read_bytes())
            if envelope.producer in self.payloads:
                self.payloads[envelope.producer].append(envelope.data)

    def patient(
        self, patient_id: UUID, events_per_producer: int, every: timedelta = timedelta(days=1)
    ) -> Iterator[Message]:
        """One patient's messages, producer by producer, each stream in sequence order; one
        event of each producer `every` so long from the first of January 2026."""
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for producer in PRODUCERS:
            payloads = itertools.cycle(self.payloads[producer])
            previous_hash = None
            for n in range(events_per_producer):
                outgoing = Outgoing(patient_id, next(payloads), start + every * n)
                sealed = seal(
                    producer,
                    n + 1,
                    previous_hash,
                    outgoing,
                    Cause.request(),
                    self.signers[producer],
                )
                previous_hash = sealed.digest
                key, headers = kafka_record(sealed.message, 0, sealed.signature)
                yield Message(producer, key, sealed.message.encode(), headers)

    def key_set_json(self) -> str:
        return json.dumps(key_set([s.public_jwk() for s in self.signers.values()]))


class RecordBatches:
    """Records appended to one record batch per (topic, partition) and each batch sent whole
    when full (`create_batch`, `send_batch`), as the relay sends (`carenet_kit.relay`)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.acknowledged: list[asyncio.Future[RecordMetadata]] = []
        self._building: dict[tuple[str, int], BatchBuilder] = {}

    async def append(
        self, topic: str, partition: int, key: bytes, value: bytes, headers: Headers
    ) -> None:
        builder = self._building.setdefault((topic, partition), self.producer.create_batch())
        if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
            await self._send(topic, partition)  # full: it leaves, and the record starts the next
            builder = self._building[(topic, partition)] = self.producer.create_batch()
            taken = builder.append(key=key, value=value, timestamp=None, headers=headers)
            assert taken is not None  # an empty batch takes any one record

    async def acknowledge(self) -> None:
        """Wait for every batch sent so far to be acknowledged."""
        await asyncio.gather(*self.acknowledged)
        self.acknowledged.clear()

    async def flush(self) -> None:
        """Send the batches being built, and wait for every acknowledgement."""
        for topic, partition in list(self._building):
            await self._send(topic, partition)
        await self.acknowledge()

    async def _send(self, topic: str, partition: int) -> None:
        builder = self._building.pop((topic, partition))
        self.acknowledged.append(
            await self.producer.send_batch(builder, topic, partition=partition)
        )


async def produce(
    bootstrap: str,
    namespace: str,
    network: SyntheticNetwork,
    patients: int,
    events: int,
    every: timedelta = timedelta(days=1),
) -> list[UUID]:
    """Write `patients` patients × 4 producers × `events` events to the namespace's topics, in
    record batches as the relay sends them (`carenet_kit.relay`: its producer options, a batch
    per partition built by the client library, one acknowledgement per batch)."""
    catalog = load_catalog()
    topics = {p: namespace + catalog.topic_of(p).name for p in PRODUCERS}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_OPTIONS)
    await producer.start()
    partitioner = DefaultPartitioner()
    patient_ids = [uuid4() for _ in range(patients)]
    try:
        partitions = {p: sorted(await producer.partitions_for(t)) for p, t in topics.items()}
        batches = RecordBatches(producer)
        for patient_id in patient_ids:
            key = str(patient_id).encode()
            partition_of = {p: partitioner(key, ids, ids) for p, ids in partitions.items()}
            for m in network.patient(patient_id, events, every):
                topic = topics[m.producer]
                await batches.append(topic, partition_of[m.producer], m.key, m.value, m.headers)
            if len(batches.acknowledged) > 1_000:
                await batches.acknowledge()
        await batches.flush()
    finally:
        await producer.stop()
    return patient_ids
