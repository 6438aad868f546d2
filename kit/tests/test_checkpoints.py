"""The relay's checkpoints: when a partition is due one, and what it signs."""

from __future__ import annotations

import json

from carenet_contracts.checkpoint import StreamCheckpoint
from carenet_kit.checkpoints import Checkpoints
from carenet_kit.signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    Signature,
    Signer,
    TrustedKeys,
    key_set,
)
from carenet_kit.wire import header

TOPIC = "carenet.casework.v1"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def checkpoints(every: int = 3, seconds: float = 10.0) -> tuple[Checkpoints, Clock, Signer]:
    signer, clock = Signer.generate("casework-1", "casework"), Clock()
    return Checkpoints(signer, TOPIC, every, seconds, monotonic=clock), clock, signer


def digest(n: int) -> str:
    return f"{n:064x}"


def test_a_partition_is_due_after_every_so_many_messages() -> None:
    made, _, _ = checkpoints(every=3)
    made.published(2, 0, digest(0))
    made.published(2, 1, digest(1))
    assert made.due() == []
    made.published(2, 2, digest(2))
    ((key, value, _),) = made.due()
    checkpoint = StreamCheckpoint.model_validate_json(value)
    assert key == f"{TOPIC}:2".encode()
    assert (checkpoint.topic, checkpoint.partition, checkpoint.offset) == (TOPIC, 2, 2)
    assert (checkpoint.value_sha256, checkpoint.count) == (digest(2), 3)
    assert made.due() == [], "checkpointed: nothing more is due"


def test_a_partition_is_due_when_its_oldest_unchecked_message_is_old_enough() -> None:
    made, clock, _ = checkpoints(every=1000, seconds=10)
    made.published(0, 41, digest(41))
    clock.now += 9
    made.published(0, 42, digest(42))
    assert made.due() == []
    clock.now += 1
    ((_, value, _),) = made.due()
    assert json.loads(value)["offset"] == 42
    clock.now += 60
    assert made.due() == [], "an idle partition is not checkpointed again"


def test_partitions_are_checkpointed_each_on_its_own() -> None:
    made, _, _ = checkpoints(every=2)
    for offset in range(2):
        made.published(0, offset, digest(offset))
    made.published(5, 7, digest(7))
    (only,) = made.due()
    assert only[0] == f"{TOPIC}:0".encode()


def test_a_checkpoint_is_signed_by_the_producer_like_every_message() -> None:
    made, _, signer = checkpoints(every=1)
    made.published(1, 9, digest(9))
    ((_, value, headers),) = made.due()
    key_id, signature = header(headers, KEY_ID_HEADER), header(headers, SIGNATURE_HEADER)
    assert key_id == signer.key_id
    assert signature is not None
    trusted = TrustedKeys(key_set([signer.public_jwk()]))
    assert trusted.problem_with("casework", value, Signature(key_id, signature)) is None
    assert json.loads(value)["producer"] == "casework"
