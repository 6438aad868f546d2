"""Verifying the stream as it lies on the broker: each message, and each (producer, patient) chain.

Two stages. The kit's `MessageInspector` checks one message on its own (size, contract, topic,
Kafka key, signature), exactly as every consumer does before acting on it; it holds no state,
so it can run anywhere, in any order. `StreamVerifier` takes
the inspected messages in partition order and follows each (producer, patient) stream: the
`sequence` must count on without gaps, and each `previous_hash` must be the SHA-256 of the
stream's previous message. It keeps only the last sequence, the last hash and the open gaps of
each stream, so memory grows with the number of streams, never with the number of events.

With a `CheckpointLedger` (`carenet_audit_tool.checkpoints`), every record is also held to the
producers' signed checkpoints, which show a partition cut short at its end (`truncated`).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carenet_kit.inspection import (
    Inspected,
    MessageInspector,
    Problem,
    ProblemKind,
    Record,
    Standing,
)

if TYPE_CHECKING:
    from carenet_audit_tool.checkpoints import CheckpointLedger


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
    producers: Counter[str] = field(default_factory=Counter)
    key_ids: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    checkpoints: int = 0
    """Signed checkpoints verified, each holding its partition to what it vouches for."""
    every_signature: bool = True
    """Whether every message's signature was checked, or those covering each stream's hash
    chain (`carenet_kit.chain_cover`)."""
    signatures: int = 0
    """Ed25519 signatures verified."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "verified": self.verified,
            "patients": self.patients,
            "streams": self.streams,
            "producers": dict(sorted(self.producers.items())),
            "key_ids": dict(sorted(self.key_ids.items())),
            "problems": {kind.value: self.problems[kind.value] for kind in ProblemKind},
            "checkpoints": self.checkpoints,
            "every_signature": self.every_signature,
            "signatures": self.signatures,
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
        *,
        every_signature: bool = True,
    ) -> None:
        """`every_signature`: whether the messages accepted had their signatures checked by
        their inspection (False: the caller covers them, `carenet_kit.chain_cover`)."""
        self.inspector = MessageInspector(key_set, namespace)
        self.max_problems = max_problems
        self.checkpoints = checkpoints
        self.summary = Summary(every_signature=every_signature)
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
        if summary.every_signature and message.standing is Standing.AUTHENTIC:
            summary.signatures += 1
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
        self.summary.streams = len(self._streams)
        self.summary.patients = len(self.patient_ids())
        if self.checkpoints is not None:
            for problem in self.checkpoints.finish():
                self._report(problem)
            self.summary.checkpoints = self.checkpoints.verified
        heads = self.checkpoints.head_offsets() if self.checkpoints is not None else {}
        return Report(self.summary, list(self._problems), heads)

    def patient_ids(self) -> set[str]:
        """The patients of the streams followed."""
        return {patient for _, patient in self._streams}

    def report_all(self, problems: Iterable[Problem]) -> None:
        """Problems found beside the messages' own and their streams' (e.g. by a cover)."""
        for problem in problems:
            self._report(problem)

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
