"""A synthetic CareNet stream for benchmarks: real envelopes, really chained and signed.

Each patient gets a stream from every producer, built with the services' own outbox code
(`PublishedStream`) from the committed example payloads, so the bytes are what the services
would publish; only the number of patients and events is made up.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer

from carenet_contracts import Payload, parse_message
from carenet_kit.outbox import Cause, Outgoing, PublishedStream
from carenet_kit.signing import Signer, TrustedKeys, key_set
from carenet_kit.topics import load_catalog
from carenet_kit.wire import kafka_record

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

    def patient(self, patient_id: UUID, events_per_producer: int) -> Iterator[Message]:
        """One patient's messages, producer by producer, each stream in sequence order."""
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for producer in PRODUCERS:
            stream = PublishedStream(producer, patient_id)
            payloads = itertools.cycle(self.payloads[producer])
            for n in range(events_per_producer):
                outgoing = Outgoing(patient_id, next(payloads), start + timedelta(days=n))
                stream.publish(outgoing, Cause.request(), self.signers[producer])
            for appended in stream.collect_events()[1:]:
                assert isinstance(appended, PublishedStream.Appended)
                key, headers = kafka_record(appended.message, 0, appended.signed)
                yield Message(producer, key, appended.message.encode(), headers)

    def key_set_json(self) -> str:
        return json.dumps(key_set([s.public_jwk() for s in self.signers.values()]))


async def produce(
    bootstrap: str, namespace: str, network: SyntheticNetwork, patients: int, events: int
) -> list[UUID]:
    """Write `patients` patients × 4 producers × `events` events to the namespace's topics."""
    catalog = load_catalog()
    topics = {p: namespace + catalog.topic_of(p).name for p in PRODUCERS}
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=50, max_batch_size=512 * 1024, acks="all"
    )
    await producer.start()
    patient_ids = [uuid4() for _ in range(patients)]
    try:
        pending = []
        for patient_id in patient_ids:
            for m in network.patient(patient_id, events):
                pending.append(
                    await producer.send(topics[m.producer], m.value, m.key, headers=m.headers)
                )
            if len(pending) > 20_000:
                for future in pending:
                    await future
                pending.clear()
        for future in pending:
            await future
    finally:
        await producer.stop()
    return patient_ids
