"""Admission: what every consumer checks before it acts on a message, as an auditor would.

A message is acted on only when it is proven to be the next message of its (producer, patient)
stream: no larger than `MAX_MESSAGE_BYTES`, on its producer's topic, signed with a key of the
network's key set that speaks for that producer, with a Kafka key equal to its patient id
(`carenet_kit.inspection`, the auditor's own checks), and with the sequence that follows the
last one the consumer took from that stream, linked to it by `previous_hash`.

Each consumer keeps one `StreamPosition` per stream (never one per message) and moves it in the
same transaction as the message's effect and tracking record (`StreamTracking`). A sequence
that skips ahead (`gap`) or comes again (`repeat`) is refused, not applied and not held: the
producer's outbox never does either, so it is evidence of tampering or of a restored producer
for a person to look at. The one exception is the last message taken coming again with the same
`event_id`: a redelivery, which changes nothing.

A refused message goes to the dead-letter topic with its reason (once per service: see
`carenet_kit.runtime`), is counted in `carenet_messages_refused_total` and changes nothing
else; its stream does not move. A genuine, in-order message that the service then cannot use
(a contract it does not read, a command it rejects) moves its stream on and is dead-lettered
for its own reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from carenet_contracts import Envelope
from carenet_kit.inspection import Inspected, MessageInspector, ProblemKind, Record, Standing

Stream = tuple[str, str]
"""A (producer, patient id) stream."""

REFUSING = (
    ProblemKind.OVERSIZED,
    ProblemKind.FORGED,
    ProblemKind.EXPIRED_KEY,
    ProblemKind.ALTERED,
    ProblemKind.MISPLACED,
)
"""Problems of the message itself that refuse it, in the order they are reported."""


@dataclass(frozen=True)
class StreamPosition:
    """The last message a consumer took from one (producer, patient) stream."""

    producer: str
    patient_id: str
    sequence: int
    event_id: str
    digest: str
    """SHA-256 (hex) of its value: what the next message's `previous_hash` must be."""

    @property
    def stream(self) -> Stream:
        return (self.producer, self.patient_id)


@dataclass(frozen=True)
class StreamTracking(Tracking):
    """A tracking record (topic:partition, offset) that also moves streams, in its transaction
    (see `carenet_kit.consumed_streams`); a plain `Tracking` moves none."""

    positions: tuple[StreamPosition, ...] = ()
    earlier: tuple[Tracking, ...] = ()
    """Messages taken before this one that changed nothing but their own tracking record and
    streams, not recorded yet: recorded first, in this transaction (`carenet_kit.inbound`
    defers them so that a batch costs one commit, not one per message)."""

    def in_order(self) -> tuple[Tracking, ...]:
        """The tracking records to write, in the order taken: the earlier ones, then this."""
        return (*self.earlier, self)


@dataclass(frozen=True)
class Admitted:
    """The next message of its stream, proven; `envelope` is None when it is no contract this
    consumer reads (`contract_error` says why): its stream moves on all the same."""

    position: StreamPosition
    envelope: Envelope[Any] | None
    contract_error: str | None = None


@dataclass(frozen=True)
class Redelivered:
    """The last message taken from its stream, again: nothing to do."""


@dataclass(frozen=True)
class Inadmissible:
    """Not to be acted on; `reason` is a label for the metric, `detail` says what is wrong
    (no personal data: no values from the message, only positions, keys and sequences)."""

    reason: str
    detail: str

    @property
    def text(self) -> str:
        return f"{self.reason}: {self.detail}"


Verdict = Admitted | Redelivered | Inadmissible


@dataclass(frozen=True)
class Authentic:
    """A message proven on its own (signature, topic, key, size), not yet placed in its stream;
    `envelope` is None when it is not a valid contract."""

    message: Inspected
    envelope: Envelope[Any] | None

    @property
    def stream(self) -> Stream:
        assert self.message.producer is not None
        assert self.message.patient_id is not None
        return (self.message.producer, self.message.patient_id)


UNTRUSTED = Inadmissible(
    "untrusted", "no trusted key set (CARENET_TRUSTED_KEYS): no message can be verified"
)


class Gate:
    """One reader's admission: the inspector's checks, then the stream's sequence.

    Without a key set nothing is admitted: a service configured without one (development only;
    production refuses to start) acts on no message at all rather than on unverified ones.
    """

    def __init__(self, key_set: Mapping[str, Any] | None, namespace: str = "") -> None:
        self.inspector = None if key_set is None else MessageInspector(key_set, namespace)

    def admit(self, record: Record, last: Callable[[Stream], StreamPosition | None]) -> Verdict:
        """The verdict on a message, given the last position of its stream (`last`)."""
        inspected = self.inspect(record)
        if isinstance(inspected, Inadmissible):
            return inspected
        return follow(inspected, last(inspected.stream))

    def inspect(self, record: Record, *, verify_signature: bool = True) -> Inadmissible | Authentic:
        """The message on its own: refused, or authentic (to be followed in its stream).

        `verify_signature=False` leaves the Ed25519 check to the caller's `ChainCover`
        (`carenet_kit.chain_cover`), which must then be finished clean before anything is
        acted on."""
        if self.inspector is None:
            return UNTRUSTED
        inspected, envelope = self.inspector.inspect_envelope(
            record, verify_signature=verify_signature
        )
        problems = {problem.kind: problem for problem in inspected.problems}
        for kind in REFUSING:
            if kind in problems:
                return Inadmissible(kind.value, problems[kind].detail)
        if inspected.standing is not Standing.AUTHENTIC:
            invalid = problems.get(ProblemKind.INVALID)
            return Inadmissible("invalid", invalid.detail if invalid else "names no stream")
        return Authentic(inspected, envelope)


def follow(authentic: Authentic, previous: StreamPosition | None) -> Verdict:
    """An authentic message against the last position taken from its stream."""
    message = authentic.message
    assert message.sequence is not None
    assert message.event_id is not None
    sequence, due = message.sequence, 1 if previous is None else previous.sequence + 1
    if previous is not None and (sequence, message.event_id) == (
        previous.sequence,
        previous.event_id,
    ):
        return Redelivered()
    if sequence < due:
        return Inadmissible("repeat", f"sequence {sequence} again: the stream is at {due - 1}")
    if sequence > due:
        return Inadmissible("gap", f"sequence {sequence} where {due} is due")
    if message.previous_hash != (None if previous is None else previous.digest):
        return Inadmissible(
            "altered", f"previous_hash does not link sequence {sequence} to {due - 1}"
        )
    assert message.producer is not None
    assert message.patient_id is not None
    position = StreamPosition(
        message.producer, message.patient_id, sequence, message.event_id, message.digest.hex()
    )
    invalid = next((p for p in message.problems if p.kind is ProblemKind.INVALID), None)
    return Admitted(position, authentic.envelope, None if invalid is None else invalid.detail)
