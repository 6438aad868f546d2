"""Signed stream checkpoints: the relay's periodic word on how far each partition got.

The hash chain proves each (producer, patient) stream has no hole *before* its last message,
but nothing in the stream can show that messages after it were cut off: a partition truncated
to an earlier offset (a restore from a mirror that lagged, an unclean leader election, a topic
deleted and refilled) still verifies. So the relay, which knows what it published on each
partition, signs a checkpoint every `every` messages or `seconds` seconds per partition: the
last offset, the SHA-256 of the value there and the count of messages up to it
(`carenet_contracts.checkpoint.StreamCheckpoint`), on the checkpoint topic, with the same
signature headers as every message. `carenet-audit replay` reports a partition that holds less
than a checkpoint vouches for.

It costs one small message per partition per `every` messages (or per `seconds` when fewer
arrive): the hashes are the outbox's, computed when the message was recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from carenet_contracts.checkpoint import CHECKPOINT_TYPE, CHECKPOINT_VERSION, StreamCheckpoint
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signer
from carenet_kit.wire import CONTENT_TYPE, Headers


@dataclass
class _Head:
    """The last message the relay published on a partition, and what is not checkpointed."""

    offset: int
    sha256: str
    unchecked: int
    since: float
    """When (monotonic) the first message not yet checkpointed was published."""


class Checkpoints:
    """Which partitions of one topic are due a checkpoint, and the signed records for them."""

    def __init__(
        self,
        signer: Signer,
        topic: str,
        every: int,
        seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signer = signer
        self.topic = topic
        self.every = every
        self.seconds = seconds
        self._monotonic = monotonic
        self._heads: dict[int, _Head] = {}

    def published(self, partition: int, offset: int, sha256: str) -> None:
        """A message was acknowledged at `offset` (hex SHA-256 of its value)."""
        head = self._heads.get(partition)
        if head is None or head.unchecked == 0:
            self._heads[partition] = _Head(offset, sha256, 1, self._monotonic())
        elif offset > head.offset:
            head.offset, head.sha256 = offset, sha256
            head.unchecked += 1

    def due(self) -> list[tuple[bytes, bytes, Headers]]:
        """The checkpoints to publish now (key, value, headers); each partition's counts reset.

        A partition is due after `every` messages not yet checkpointed, or when the oldest of
        them is `seconds` old."""
        now = self._monotonic()
        records = []
        for partition, head in sorted(self._heads.items()):
            if head.unchecked and (
                head.unchecked >= self.every or now - head.since >= self.seconds
            ):
                records.append(self._record(partition, head))
                head.unchecked = 0
        return records

    def _record(self, partition: int, head: _Head) -> tuple[bytes, bytes, Headers]:
        checkpoint = StreamCheckpoint(
            producer=self.signer.producer,
            topic=self.topic,
            partition=partition,
            offset=head.offset,
            value_sha256=head.sha256,
            count=head.offset + 1,
            checkpointed_at=datetime.now(UTC),
        )
        value = checkpoint.model_dump_json().encode()
        signature = self.signer.sign(value)
        headers: Headers = [
            ("content-type", CONTENT_TYPE),
            ("ce_specversion", b"1.0"),
            ("ce_id", str(uuid4()).encode()),
            ("ce_source", f"urn:carenet:{self.signer.producer}".encode()),
            ("ce_type", f"org.carenet.{CHECKPOINT_TYPE}.v{CHECKPOINT_VERSION}".encode()),
            ("ce_time", checkpoint.checkpointed_at.isoformat().encode()),
            (KEY_ID_HEADER, signature.key_id.encode()),
            (SIGNATURE_HEADER, signature.value.encode()),
        ]
        return checkpoint.partition_key.encode(), value, headers
