"""Holding each partition to what its producer's signed checkpoints vouch for.

A relay signs, every so many messages, how far each partition of its topic got: the last
offset, the SHA-256 of the value there and the count of messages up to it
(`carenet_kit.checkpoints`). The replay reads the checkpoint topic *before* it fixes where the
producers' topics end, so every checkpoint it trusts covers records that existed when it
started; a partition that then holds less (the checkpointed message is not in it, or fewer
records lead up to it than it counted) was cut short or rewritten: `truncated`. Messages are
found by their hash: a partition mirrored back after a loss may hold them at other offsets.

A checkpoint itself is verified like a message: it must be signed by a key of the producer
whose topic it names, valid when the checkpoint was made. One that is not is reported with the
message kinds (`invalid`, `forged`, `altered`, `expired_key`) and vouches for nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from carenet_contracts.checkpoint import StreamCheckpoint
from carenet_kit.inspection import Problem, ProblemKind, Record
from carenet_kit.signing import TrustedKeys


@dataclass(frozen=True)
class Vouched:
    """A verified checkpoint, and where it lies on the checkpoint topic."""

    checkpoint: StreamCheckpoint
    position: str


@dataclass
class Head:
    """The last record read from a partition, and how many were read up to it."""

    offset: int
    sha256: bytes
    count: int


class CheckpointLedger:
    """Add the checkpoint topic's records, observe every producer record, then `finish()`."""

    def __init__(self, trusted: TrustedKeys, topics: Mapping[str, str]) -> None:
        self.trusted = trusted
        self.topics = dict(topics)
        """producer → its topic's name on the broker (namespace included)."""
        self.verified = 0
        self.heads: dict[str, Head] = {}
        """partition (`topic:partition`) → its last record read."""
        self._vouched: dict[str, dict[bytes, list[Vouched]]] = defaultdict(dict)
        """partition → SHA-256 of a checkpointed message → the checkpoints of it."""
        self._problems: list[Problem] = []
        self._short: set[str] = set()
        """Partitions already reported to lack records before a checkpoint (once is enough:
        every later checkpoint of the partition would say the same)."""

    def add(self, record: Record) -> None:
        """Take one record of the checkpoint topic: kept if verified, reported if not."""
        try:
            checkpoint = StreamCheckpoint.model_validate_json(record.value)
        except ValidationError as error:
            reason = str(error).splitlines()[0]
            self._report(record, ProblemKind.INVALID, f"not a checkpoint: {reason}")
            return
        producer, signature = checkpoint.producer, record.signature
        if checkpoint.topic != self.topics[producer]:
            detail = f"a checkpoint of {producer} for {checkpoint.topic}"
            self._report(record, ProblemKind.FORGED, detail, producer, self.topics[producer])
        elif signature is None:
            self._report(record, ProblemKind.FORGED, "unsigned checkpoint", producer)
        elif self.trusted.owner_of(signature.key_id) != producer:
            failure = self.trusted.problem_with(producer, record.value, signature)
            self._report(record, ProblemKind.FORGED, f"checkpoint {failure}", producer)
        elif failure := self.trusted.problem_with(producer, record.value, signature):
            self._report(record, ProblemKind.ALTERED, f"checkpoint {failure}", producer)
        elif expired := self.trusted.validity_problem(signature.key_id, checkpoint.checkpointed_at):
            detail = f"checkpoint made at {checkpoint.checkpointed_at.isoformat()}: {expired}"
            self._report(record, ProblemKind.EXPIRED_KEY, detail, producer)
        else:
            self.verified += 1
            self.vouch(checkpoint, record.position)

    def vouch(self, checkpoint: StreamCheckpoint, source: str) -> None:
        """Hold the partition to a checkpoint verified elsewhere (e.g. the heads of an
        auditor's earlier signed report); `source` says where it comes from in problems."""
        at = self._vouched[checkpoint.partition_key]
        at.setdefault(bytes.fromhex(checkpoint.value_sha256), []).append(
            Vouched(checkpoint, source)
        )

    def observe(self, position: str, sha256: bytes) -> list[Problem]:
        """A producer record read, in partition order: what the checkpoints of it say.

        A checkpointed message is found by its hash, not its offset: a partition mirrored back
        after a loss may hold the same messages at other offsets, and still be whole."""
        partition, _, at = position.rpartition("@")
        head = self.heads.get(partition)
        if head is None:
            head = self.heads[partition] = Head(int(at), sha256, 0)
        head.offset, head.sha256, head.count = int(at), sha256, head.count + 1
        count = head.count
        vouched = self._vouched.get(partition)
        found = vouched.pop(sha256, None) if vouched else None
        if found is None or partition in self._short:
            return []
        strictest = max(found, key=lambda v: v.checkpoint.count)
        if count >= strictest.checkpoint.count:
            return []
        self._short.add(partition)
        return [
            _truncated(
                strictest,
                position,
                "fewer records lead up to the checkpointed message than it counted: "
                "records before it are gone",
                f"{strictest.checkpoint.count} records",
                f"{count} records",
            )
        ]

    def finish(self) -> list[Problem]:
        """The checkpoints' problems, and each partition that lacks a checkpointed message."""
        problems = list(self._problems)
        for partition, vouched in sorted(self._vouched.items()):
            missing = [v for at_hash in vouched.values() for v in at_hash]
            if not missing:
                continue
            last = max(missing, key=lambda v: v.checkpoint.offset)
            furthest = last.checkpoint
            head = self.heads.get(partition)
            end = "holds nothing" if head is None else f"ends at offset {head.offset}"
            problems.append(
                _truncated(
                    last,
                    f"{partition}@{furthest.offset}",
                    f"the partition {end} without {len(missing)} checkpointed message(s): "
                    "cut short, or cut and written again",
                    f"offset {furthest.offset}, sha256 {furthest.value_sha256}",
                    "no record" if head is None else f"last offset {head.offset}",
                )
            )
        self._vouched.clear()
        return problems

    def vouched_by_partition(self) -> dict[str, list[tuple[StreamCheckpoint, str]]]:
        """Each partition's checkpoints still to be found, and where each comes from: to hold
        the partition to them in another ledger (a shard's, `carenet_audit_tool.shards`)."""
        return {
            partition: [(v.checkpoint, v.position) for at_hash in vouched.values() for v in at_hash]
            for partition, vouched in self._vouched.items()
        }

    def rejected(self) -> list[Problem]:
        """The problems of the checkpoint topic's own records (each vouches for nothing)."""
        return list(self._problems)

    def head_offsets(self) -> dict[str, dict[str, Any]]:
        """Where each partition read ended, in a checkpoint's terms."""
        return {
            partition: {"offset": h.offset, "value_sha256": h.sha256.hex(), "count": h.count}
            for partition, h in sorted(self.heads.items())
        }

    def _report(
        self,
        record: Record,
        kind: ProblemKind,
        detail: str,
        producer: str | None = None,
        expected: str | None = None,
    ) -> None:
        self._problems.append(Problem(kind, record.position, detail, producer, expected=expected))


def _truncated(vouched: Vouched, position: str, what: str, expected: str, found: str) -> Problem:
    checkpoint = vouched.checkpoint
    return Problem(
        ProblemKind.TRUNCATED,
        position,
        f"{what} (checkpoint at {vouched.position}, made {checkpoint.checkpointed_at.isoformat()})",
        checkpoint.producer,
        expected=expected,
        found=found,
    )
