"""What one message on a CareNet topic proves on its own: size, contract, topic, key, signature.

One inspector for everyone who reads the topics: every consumer runs it before acting on a
message (`carenet_kit.admission`), and `carenet-audit replay` runs it over the whole record. It
holds no state, so it can run anywhere, in any order; following each (producer, patient) stream
is the caller's part.

How a message stands in its stream follows from its signature:

- signed by its producer's key and verified: it takes its place, and its hash links the chain;
- signed by its producer's key but not verified (`altered`): the auditor still places it, but
  its original hash is unknown, so the next link is not checked (one alteration, one problem);
- anything else (`forged`, `oversized`, not a CareNet message): it is reported and ignored, so
  it cannot disturb the genuine chain;
- signed and verified, but by a key outside its validity period at the message's `recorded_at`
  (`expired_key`): not proven either, so it is reported and ignored like a forgery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from carenet_contracts import ContractError, Envelope, parse_message
from carenet_kit.signing import (
    KEY_ID_HEADER,
    PRODUCER_MEMBER,
    SIGNATURE_HEADER,
    Signature,
    TrustedKeys,
)
from carenet_kit.topics import load_catalog
from carenet_kit.wire import Headers, header

PRODUCERS = ("intake", "routing", "casework", "notifications", "audit")
"""The producers whose topics are the record (the dead-letter topic holds copies, not facts)."""

MAX_MESSAGE_BYTES = 128 * 1024
"""The largest value a CareNet message may have: twice the largest request body a service
accepts by default. A larger one is refused unread (`oversized`), so a stranger cannot make
every consumer parse megabytes."""


@dataclass(frozen=True)
class Record:
    """One message as it lies on the broker, and where."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}@{self.offset}"

    @property
    def signature(self) -> Signature | None:
        key_id = header(self.headers, KEY_ID_HEADER)
        value = header(self.headers, SIGNATURE_HEADER)
        return Signature(key_id, value) if key_id and value else None


class ProblemKind(StrEnum):
    INVALID = "invalid"
    """Not a CareNet integration event (envelope or contract), signed by its producer."""
    FORGED = "forged"
    """Not proven to come from the producer it names: unsigned, unknown key, another
    producer's key, or on another producer's topic."""
    ALTERED = "altered"
    """The producer's own key, but the signature fails; or the hash chain does not link."""
    MISPLACED = "misplaced"
    """The Kafka key is not the message's patient id (it may sit in the wrong partition)."""
    OVERSIZED = "oversized"
    """Larger than `MAX_MESSAGE_BYTES`; not read any further."""
    DUPLICATED = "duplicated"
    """A sequence of a stream seen again."""
    REORDERED = "reordered"
    """A sequence that arrives after a later one of its stream."""
    MISSING = "missing"
    """Sequences of a stream that never arrived by the end of the read."""
    EXPIRED_KEY = "expired_key"
    """Signed by a key of its producer, but outside the key's validity period (`nbf`/`exp` in
    the key set) at the time the message says it was recorded."""
    TRUNCATED = "truncated"
    """A partition holds less than its producer's signed checkpoint vouches for: the message it
    checkpointed is not in it (cut short, or cut and written again), or records before it are
    gone."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and exactly where: `position` is topic:partition@offset."""

    kind: ProblemKind
    position: str
    detail: str
    producer: str | None = None
    patient_id: str | None = None
    sequence: int | None = None
    event_id: str | None = None
    expected: str | None = None
    found: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "position": self.position,
            "producer": self.producer,
            "patient_id": self.patient_id,
            "sequence": self.sequence,
            "event_id": self.event_id,
            "expected": self.expected,
            "found": self.found,
            "detail": self.detail,
        }


class Standing(StrEnum):
    """How an inspected message counts in its (producer, patient) stream."""

    AUTHENTIC = "authentic"
    ALTERED = "altered"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Inspected:
    """What one message says about its stream, and what is wrong with it on its own."""

    position: str
    topic_producer: str | None
    producer: str | None
    patient_id: str | None
    sequence: int | None
    previous_hash: str | None
    event_id: str | None
    key_id: str | None
    digest: bytes
    standing: Standing
    problems: tuple[Problem, ...] = ()


class MessageInspector:
    """The checks that need nothing but the message: size, contract, topic, key, signature."""

    def __init__(self, key_set: Mapping[str, Any], namespace: str = "") -> None:
        self.trusted = TrustedKeys(key_set)
        self.owners: dict[str, str] = {key["kid"]: key[PRODUCER_MEMBER] for key in key_set["keys"]}
        catalog = load_catalog()
        self.topics = {p: namespace + catalog.topic_of(p).name for p in PRODUCERS}
        self.producer_of_topic = {topic: p for p, topic in self.topics.items()}

    def inspect(self, record: Record, *, verify_signature: bool = True) -> Inspected:
        return self.inspect_envelope(record, verify_signature=verify_signature)[0]

    def inspect_envelope(
        self, record: Record, *, verify_signature: bool = True
    ) -> tuple[Inspected, Envelope[Any] | None]:
        """The inspection, and the envelope when the message is a valid contract (consumers
        act on it: it is parsed once).

        `verify_signature=False` skips the Ed25519 check alone (the key must still be one of
        the producer's, valid at `recorded_at`): for a caller that proves the value through
        each stream's hash chain (`carenet_kit.chain_cover`): the auditor's replay, and the
        readers that load whole topics (`carenet_kit.batches`). The inbound consumer checks
        every message's own signature."""
        value = record.value
        topic_producer = self.producer_of_topic.get(record.topic)
        if len(value) > MAX_MESSAGE_BYTES:
            return _oversized(record, topic_producer), None
        envelope: Envelope[Any] | None = None
        try:
            envelope = parse_message(value)
            claims = _Claims(
                str(envelope.producer),
                str(envelope.patient_id),
                envelope.sequence,
                envelope.previous_hash,
                str(envelope.event_id),
                envelope.recorded_at,
            )
            contract_error = None
        except ContractError as error:
            claims = _Claims.lenient(value)
            contract_error = str(error).splitlines()[0]

        def problem(kind: ProblemKind, detail: str, **fields: str | None) -> Problem:
            return Problem(
                kind,
                record.position,
                detail,
                claims.producer,
                claims.patient_id,
                claims.sequence,
                claims.event_id,
                **fields,
            )

        producer = claims.producer or topic_producer
        signature = record.signature
        problems: list[Problem] = []
        standing = Standing.AUTHENTIC
        if producer is None:
            detail = contract_error or "names no CareNet producer"
            problems.append(problem(ProblemKind.INVALID, f"not a CareNet message: {detail}"))
            standing = Standing.IGNORED
        elif claims.producer is not None and record.topic != self.topics.get(producer):
            expected = self.topics.get(producer, "no topic: not a CareNet producer")
            problems.append(
                problem(
                    ProblemKind.FORGED,
                    f"a {producer} message on {record.topic}",
                    expected=expected,
                    found=record.topic,
                )
            )
            standing = Standing.IGNORED
        elif signature is None:
            problems.append(
                problem(ProblemKind.FORGED, "unsigned", expected=f"a key of {producer}")
            )
            standing = Standing.IGNORED
        elif (owner := self.owners.get(signature.key_id)) != producer:
            detail = (
                f"signed with unknown key {signature.key_id!r}"
                if owner is None
                else f"claims {producer!r} but key {signature.key_id!r} belongs to {owner!r}"
            )
            problems.append(
                problem(
                    ProblemKind.FORGED,
                    detail,
                    expected=f"a key of {producer}",
                    found=signature.key_id,
                )
            )
            standing = Standing.IGNORED
        # the one signature check of every consumer and of the auditor's replay
        elif (
            verify_signature
            and (failure := self.trusted.problem_with(producer, value, signature)) is not None
        ):
            if contract_error is not None:
                failure += f", and it is no longer a contract: {contract_error}"
            problems.append(problem(ProblemKind.ALTERED, failure, found=signature.key_id))
            standing = Standing.ALTERED
        elif claims.recorded_at is not None and (
            expired := self.trusted.validity_problem(signature.key_id, claims.recorded_at)
        ):
            problems.append(
                problem(
                    ProblemKind.EXPIRED_KEY,
                    f"recorded at {claims.recorded_at.isoformat()}, but {expired}",
                    expected=f"a key of {producer} valid then",
                    found=signature.key_id,
                )
            )
            standing = Standing.IGNORED
        if contract_error is not None and standing is Standing.AUTHENTIC:
            problems.append(problem(ProblemKind.INVALID, f"not a contract: {contract_error}"))
        if claims.patient_id is not None and record.key != claims.patient_id.encode():
            found = record.key.decode(errors="replace") if record.key is not None else None
            problems.append(
                problem(
                    ProblemKind.MISPLACED,
                    "the Kafka key is not the patient id",
                    expected=claims.patient_id,
                    found=found,
                )
            )
        if claims.sequence is None or claims.patient_id is None:
            standing = Standing.IGNORED
        inspected = Inspected(
            record.position,
            topic_producer,
            producer,
            claims.patient_id,
            claims.sequence,
            claims.previous_hash,
            claims.event_id,
            signature.key_id if signature else None,
            hashlib.sha256(value).digest(),
            standing,
            tuple(problems),
        )
        return inspected, envelope


def _oversized(record: Record, topic_producer: str | None) -> Inspected:
    """An oversized message, unread: only its size and position are known."""
    signature = record.signature
    detail = f"{len(record.value):,} bytes, more than the {MAX_MESSAGE_BYTES:,} a message may have"
    return Inspected(
        record.position,
        topic_producer,
        topic_producer,
        None,
        None,
        None,
        None,
        signature.key_id if signature else None,
        hashlib.sha256(record.value).digest(),
        Standing.IGNORED,
        (Problem(ProblemKind.OVERSIZED, record.position, detail, topic_producer),),
    )


@dataclass(frozen=True)
class _Claims:
    """Where a message says it belongs: from its envelope, or read leniently if it has none."""

    producer: str | None = None
    patient_id: str | None = None
    sequence: int | None = None
    previous_hash: str | None = None
    event_id: str | None = None
    recorded_at: datetime | None = None

    @classmethod
    def lenient(cls, value: bytes) -> _Claims:
        """What can still be read from a message that fails its contract (e.g. once altered)."""
        try:
            raw = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return cls()
        if not isinstance(raw, dict):
            return cls()

        def text(name: str) -> str | None:
            found = raw.get(name)
            return found if isinstance(found, str) else None

        sequence = raw.get("sequence")
        producer = text("producer")
        return cls(
            producer if producer in PRODUCERS else None,
            text("patient_id"),
            sequence if isinstance(sequence, int) and sequence >= 1 else None,
            text("previous_hash"),
            text("event_id"),
            _aware(text("recorded_at")),
        )


def _aware(text: str | None) -> datetime | None:
    """A timestamp with its offset, or None (a time without one says nothing reliable)."""
    try:
        parsed = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None
