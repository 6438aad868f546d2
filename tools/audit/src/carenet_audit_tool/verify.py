"""Verifying the stream as it lies on the broker: each message, and each (producer, patient) chain.

Two stages. `MessageInspector` checks one message on its own (contract, topic, Kafka key,
signature); it holds no state, so it can run anywhere, in any order. `StreamVerifier` takes
the inspected messages in partition order and follows each (producer, patient) stream: the
`sequence` must count on without gaps, and each `previous_hash` must be the SHA-256 of the
stream's previous message. It keeps only the last sequence, the last hash and the open gaps of
each stream, so memory grows with the number of streams, never with the number of events.

How a message stands in its stream follows from its signature:

- signed by its producer's key and verified: it takes its place, and its hash links the chain;
- signed by its producer's key but not verified (`altered`): it takes its place, but its
  original hash is unknown, so the next link is not checked (one alteration, one problem);
- anything else (`forged`): it is reported and ignored, so it cannot disturb the genuine chain;
- signed and verified, but by a key outside its validity period at the message's `recorded_at`
  (`expired_key`): not proven either, so it is reported and ignored like a forgery.

With a `CheckpointLedger` (`carenet_audit_tool.checkpoints`), every record is also held to the
producers' signed checkpoints, which show a partition cut short at its end (`truncated`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from carenet_audit_tool.stream import Record
from carenet_contracts import ContractError, parse_message
from carenet_kit.signing import PRODUCER_MEMBER, TrustedKeys
from carenet_kit.topics import load_catalog

if TYPE_CHECKING:
    from carenet_audit_tool.checkpoints import CheckpointLedger

PRODUCERS = ("intake", "routing", "casework", "notifications", "audit")
"""The producers whose topics are the record (the dead-letter topic holds copies, not facts)."""


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
    """The checks that need nothing but the message: contract, topic, key and signature."""

    def __init__(self, key_set: Mapping[str, Any], namespace: str = "") -> None:
        self.trusted = TrustedKeys(key_set)
        self.owners: dict[str, str] = {key["kid"]: key[PRODUCER_MEMBER] for key in key_set["keys"]}
        catalog = load_catalog()
        self.topics = {p: namespace + catalog.topic_of(p).name for p in PRODUCERS}
        self.producer_of_topic = {topic: p for p, topic in self.topics.items()}

    def inspect(self, record: Record) -> Inspected:
        value = record.value
        topic_producer = self.producer_of_topic.get(record.topic)
        problems: list[Problem] = []
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
        elif (failure := self.trusted.problem_with(producer, value, signature)) is not None:
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
        return Inspected(
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


@dataclass
class _Gap:
    """Sequences `start`..`end` not seen yet, and the hashes that must link them in."""

    start: int
    end: int
    hash_before: bytes | None
    """The hash of sequence start-1 (b"" before sequence 1), or None if unknown."""
    hash_after: bytes | None
    """The previous_hash of sequence end+1, i.e. the hash sequence `end` must have."""
    noticed_at: str
    noticed_event: str | None


class _Stream:
    """One (producer, patient) stream: as small as it can be, since there are millions."""

    __slots__ = ("gaps", "high", "last_hash")

    def __init__(self) -> None:
        self.high = 0
        self.last_hash: bytes | None = b""
        """The hash of sequence `high` (b"" before sequence 1); None when it is unknown."""
        self.gaps: list[_Gap] | None = None


@dataclass
class Summary:
    events: int = 0
    verified: int = 0
    patients: int = 0
    streams: int = 0
    checkpoints: int = 0
    """Signed checkpoints verified, each holding its partition to what it vouches for."""
    producers: Counter[str] = field(default_factory=Counter)
    key_ids: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "verified": self.verified,
            "patients": self.patients,
            "streams": self.streams,
            "checkpoints": self.checkpoints,
            "producers": dict(sorted(self.producers.items())),
            "key_ids": dict(sorted(self.key_ids.items())),
            "problems": {kind.value: self.problems[kind.value] for kind in ProblemKind},
        }


@dataclass(frozen=True)
class Report:
    summary: Summary
    problems: list[Problem]
    """The first `max_problems` problems in detail; `summary.problems` counts them all."""
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Where each partition (`topic:partition`) ended: offset, value_sha256 and count, in the
    terms of a checkpoint, so that a signed report is the auditor's own checkpoint."""

    @property
    def clean(self) -> bool:
        return not any(self.summary.problems.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.clean,
            "summary": self.summary.as_dict(),
            "problems": [p.as_dict() for p in self.problems],
            "problems_shown": len(self.problems),
            "problems_total": sum(self.summary.problems.values()),
            "heads": self.heads,
        }


class StreamVerifier:
    """Feed it every record in partition order, then `finish()` for the report."""

    def __init__(
        self,
        key_set: Mapping[str, Any],
        namespace: str = "",
        max_problems: int = 1_000,
        checkpoints: CheckpointLedger | None = None,
    ) -> None:
        self.inspector = MessageInspector(key_set, namespace)
        self.checkpoints = checkpoints
        self.max_problems = max_problems
        self.summary = Summary()
        self._problems: list[Problem] = []
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._gapped: set[tuple[str, str]] = set()

    def feed(self, records: Iterable[Record]) -> None:
        for record in records:
            self.accept(self.inspector.inspect(record))

    def accept(self, message: Inspected) -> None:
        """Take one inspected message (inspection may run elsewhere; order must be kept)."""
        summary = self.summary
        summary.events += 1
        summary.producers[message.topic_producer or "(not a CareNet topic)"] += 1
        if message.key_id is not None:
            summary.key_ids[message.key_id] += 1
        problems = list(message.problems)
        if message.standing is not Standing.IGNORED:
            problems.extend(self._follow(message))
        if self.checkpoints is not None:
            problems.extend(self.checkpoints.observe(message.position, message.digest))
        if not problems:
            summary.verified += 1
        for problem in problems:
            self._report(problem)

    def finish(self) -> Report:
        """Report the gaps still open: those sequences are missing."""
        for key in sorted(self._gapped):
            producer, patient_id = key
            for gap in self._streams[key].gaps or ():
                span = str(gap.start) if gap.start == gap.end else f"{gap.start}..{gap.end}"
                self._report(
                    Problem(
                        ProblemKind.MISSING,
                        gap.noticed_at,
                        f"sequence {span} never arrived (noticed here, at sequence {gap.end + 1})",
                        producer,
                        patient_id,
                        gap.start,
                        gap.noticed_event,
                        expected=f"sequence {span}",
                        found=f"sequence {gap.end + 1}",
                    )
                )
        self._gapped.clear()
        if self.checkpoints is not None:
            for problem in self.checkpoints.finish():
                self._report(problem)
            self.summary.checkpoints = self.checkpoints.verified
        self.summary.streams = len(self._streams)
        self.summary.patients = len({patient for _, patient in self._streams})
        heads = self.checkpoints.head_offsets() if self.checkpoints is not None else {}
        return Report(self.summary, list(self._problems), heads)

    def _report(self, problem: Problem) -> None:
        self.summary.problems[problem.kind.value] += 1
        if len(self._problems) < self.max_problems:
            self._problems.append(problem)

    def _follow(self, message: Inspected) -> list[Problem]:
        """Place an authentic or altered message in its stream; what that shows is wrong."""
        assert message.producer is not None
        assert message.patient_id is not None
        assert message.sequence is not None
        key = (sys.intern(message.producer), message.patient_id)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        sequence = message.sequence
        digest = message.digest if message.standing is Standing.AUTHENTIC else None
        previous = _hash_bytes(message.previous_hash)
        if sequence == stream.high + 1:
            problems = self._link(message, stream.last_hash, previous, "previous")
            stream.high, stream.last_hash = sequence, digest
            return problems
        if sequence > stream.high + 1:
            gap = _Gap(
                stream.high + 1,
                sequence - 1,
                stream.last_hash,
                previous if message.standing is Standing.AUTHENTIC else None,
                message.position,
                message.event_id,
            )
            stream.gaps = [*(stream.gaps or ()), gap]
            self._gapped.add(key)
            stream.high, stream.last_hash = sequence, digest
            return []
        return self._fill(key, stream, message, digest, previous)

    def _fill(
        self,
        key: tuple[str, str],
        stream: _Stream,
        message: Inspected,
        digest: bytes | None,
        previous: bytes | None,
    ) -> list[Problem]:
        """A sequence at or below the stream's highest: late (reordered) or seen (duplicated)."""
        sequence = message.sequence
        assert sequence is not None
        gap = next((g for g in stream.gaps or () if g.start <= sequence <= g.end), None)
        if gap is None:
            return [
                self._problem(
                    message,
                    ProblemKind.DUPLICATED,
                    f"sequence {sequence} seen again (the stream is at {stream.high})",
                    expected=f"sequence {stream.high + 1}",
                    found=f"sequence {sequence}",
                )
            ]
        problems = [
            self._problem(
                message,
                ProblemKind.REORDERED,
                f"sequence {sequence} arrived after sequence {gap.end + 1}",
                expected=f"before {gap.noticed_at}",
                found=message.position,
            )
        ]
        if sequence == gap.start:
            problems += self._link(message, gap.hash_before, previous, "previous")
        after = gap.hash_after
        if sequence == gap.end and digest is not None and after is not None and digest != after:
            problems.append(
                self._problem(
                    message,
                    ProblemKind.ALTERED,
                    f"its hash is not the previous_hash of sequence {sequence + 1}",
                    expected=after.hex(),
                    found=digest.hex(),
                )
            )
        rest = [g for g in stream.gaps or () if g is not gap]
        if gap.start < sequence:
            rest.append(
                _Gap(
                    gap.start,
                    sequence - 1,
                    gap.hash_before,
                    previous if digest is not None else None,
                    *_noticed(message),
                )
            )
        if sequence < gap.end:
            rest.append(_Gap(sequence + 1, gap.end, digest, gap.hash_after, *_noticed(gap)))
        stream.gaps = sorted(rest, key=lambda g: g.start) or None
        if stream.gaps is None:
            self._gapped.discard(key)
        return problems

    def _link(
        self, message: Inspected, expected: bytes | None, previous: bytes | None, what: str
    ) -> list[Problem]:
        """The chain check: previous_hash is the hash of the stream's previous message."""
        if message.standing is not Standing.AUTHENTIC or expected is None or expected == previous:
            return []
        return [
            self._problem(
                message,
                ProblemKind.ALTERED,
                f"previous_hash is not the hash of the {what} message of the stream",
                expected=expected.hex() or None,
                found=message.previous_hash,
            )
        ]

    @staticmethod
    def _problem(
        message: Inspected,
        kind: ProblemKind,
        detail: str,
        expected: str | None = None,
        found: str | None = None,
    ) -> Problem:
        return Problem(
            kind,
            message.position,
            detail,
            message.producer,
            message.patient_id,
            message.sequence,
            message.event_id,
            expected,
            found,
        )


def _noticed(source: Inspected | _Gap) -> tuple[str, str | None]:
    if isinstance(source, _Gap):
        return source.noticed_at, source.noticed_event
    return source.position, source.event_id


def _hash_bytes(previous_hash: str | None) -> bytes | None:
    """The previous_hash as bytes: b"" for null (sequence 1), None if it is not hex at all."""
    if previous_hash is None:
        return b""
    try:
        return bytes.fromhex(previous_hash)
    except ValueError:
        return None
