"""The transactional outbox: integration events are stored with the change that caused them.

Each (producer, patient) pair has a `PublishedStream` aggregate. Its `Appended` events hold the
exact messages to publish, so the per-patient `sequence` and the `previous_hash` chain are
decided inside the same transaction as the domain change, under optimistic concurrency.
Each message is signed there too (`carenet_kit.signing`), so the stored record is already the
proof of its origin; the relay (`carenet_kit.relay`) later copies it to Kafka byte for byte.

A service's outbound mapper declares which domain events leave and as which contract
(`Outgoing.of`, `contract_payload`): each contract field is read from the domain event's field of
the same name, and only renames and computed fields are written out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking

from carenet_contracts import Envelope, Payload, envelope_of
from carenet_contracts.envelope import PayloadT
from carenet_kit.fields import copy_of
from carenet_kit.signing import Signature, Signer
from carenet_kit.tracing import current_traceparent

STREAM_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:published-stream")


@dataclass(frozen=True)
class Outgoing:
    """What a service's outbound mapper decides to publish about one domain event."""

    patient_id: UUID
    payload: Payload
    occurred_at: datetime

    @classmethod
    def of(
        cls,
        domain_event: Any,
        payload: Payload,
        *,
        occurred_at: datetime | None = None,
        patient_id: UUID | None = None,
    ) -> Outgoing:
        """`payload` about the domain event's `patient_id`, happened when it was recorded unless
        `occurred_at` says otherwise."""
        return cls(
            patient_id=patient_id or domain_event.patient_id,
            payload=payload,
            occurred_at=occurred_at or domain_event.timestamp,
        )


def contract_payload(contract: type[PayloadT], source: object, /, **given: object) -> PayloadT:
    """The `contract` payload of a domain event (or of a mapping of its facts).

    Each field of the contract is the value `given` for it (a rename or a computed field), else
    the source's attribute (or key) of the same name, else the contract's default. Only the
    contract's fields are read, so the contract decides what leaves; the contract's own
    validation converts values (a string to its enumeration, a tuple to a list).
    """
    return copy_of(contract, source, **given)


@dataclass(frozen=True)
class Cause:
    """Why a command runs: a request, or an inbound event at a tracked Kafka position."""

    correlation_id: UUID
    causation_id: UUID | None = None
    tracking: Tracking | None = None

    @classmethod
    def request(cls, correlation_id: UUID | None = None) -> Cause:
        return cls(correlation_id=correlation_id or uuid4())

    @classmethod
    def inbound(cls, envelope: Envelope[Payload], tracking: Tracking) -> Cause:
        return cls(envelope.correlation_id, envelope.event_id, tracking)


@dataclass(frozen=True)
class Sealed:
    """A message as the outbox stores it: the envelope, its exact JSON, the JSON's SHA-256 (the
    next message's `previous_hash`) and the producer's signature of it."""

    envelope: Envelope[Payload]
    message: str
    digest: str
    signature: Signature


def seal(
    producer: str,
    sequence: int,
    previous_hash: str | None,
    outgoing: Outgoing,
    cause: Cause,
    signer: Signer,
) -> Sealed:
    """Message `sequence` of the producer's stream about `outgoing.patient_id`, linked to the
    one before by its hash and signed: what `PublishedStream.publish` appends, and what a
    synthetic history is made of (`bench.synthetic`)."""
    payload = outgoing.payload
    envelope = envelope_of(type(payload))(
        event_id=uuid4(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=outgoing.occurred_at,
        recorded_at=datetime.now(UTC),
        producer=producer,
        patient_id=outgoing.patient_id,
        correlation_id=cause.correlation_id,
        causation_id=cause.causation_id,
        sequence=sequence,
        previous_hash=previous_hash,
        data=payload,
    )
    message = envelope.model_dump_json()
    encoded = message.encode()
    return Sealed(envelope, message, hashlib.sha256(encoded).hexdigest(), signer.sign(encoded))


class PublishedStream(Aggregate):
    """The outbox of one (producer, patient) stream; `sequence` counts its messages."""

    @staticmethod
    def create_id(producer: str, patient_id: UUID) -> UUID:
        return uuid5(STREAM_NAMESPACE, f"{producer}/{patient_id}")

    @event("Opened")
    def __init__(self, producer: str, patient_id: UUID) -> None:
        self.producer = producer
        self.patient_id = patient_id
        self.sequence = 0
        self.last_hash: str | None = None

    def publish(self, outgoing: Outgoing, cause: Cause, signer: Signer) -> Envelope[Payload]:
        sealed = seal(self.producer, self.sequence + 1, self.last_hash, outgoing, cause, signer)
        self._append(
            message=sealed.message,
            digest=sealed.digest,
            key_id=sealed.signature.key_id,
            signature=sealed.signature.value,
            traceparent=current_traceparent(),
        )
        return sealed.envelope

    class Appended(Aggregate.Event):
        message: str
        """The envelope's JSON, exactly as it goes on Kafka."""
        digest: str
        key_id: str | None
        signature: str | None
        """The producer's signature of `message`; None in stores written before signing."""
        traceparent: str | None
        """The W3C trace context the message was committed in, for the Kafka header; None
        outside a trace and in stores written before tracing."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["key_id"] = state["signature"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, object]) -> None:
            state["traceparent"] = None

        @property
        def signed(self) -> Signature | None:
            if self.key_id is None or self.signature is None:
                return None
            return Signature(self.key_id, self.signature)

    @event(Appended)
    def _append(
        self, message: str, digest: str, key_id: str, signature: str, traceparent: str | None
    ) -> None:
        self.sequence += 1
        self.last_hash = digest
