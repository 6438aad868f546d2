"""A stream checkpoint: a producer's signed statement of how far one partition of its topic got.

Not a patient event, so not an `Envelope`: it travels on its own topic
(`carenet.checkpoints.v1`), keyed `<topic>:<partition>`, signed with the producer's key in the
same headers as every message (see `contracts/MESSAGE_FORMAT.md`, "Checkpoints"). A replay
that finds less on the partition than a checkpoint vouches for has found a stream cut short.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from carenet_contracts.envelope import Producer

CHECKPOINT_TYPE = "StreamCheckpoint"
CHECKPOINT_VERSION = 1


class StreamCheckpoint(BaseModel):
    """How far `topic`'s `partition` got, as its producer published it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    producer: Producer = Field(description="The producer whose topic this is; it signs this.")
    topic: str = Field(description="The producer's topic, as named on the broker.")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0, description="The offset of the last message covered.")
    value_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 (hex) of the value of the message at `offset`, as published.",
    )
    count: int = Field(
        ge=1,
        description="How many messages the partition holds from its start to `offset` "
        "inclusive (offset + 1: CareNet's topics are never compacted nor written in "
        "transactions, so offsets count from 0 without gaps).",
    )
    checkpointed_at: AwareDatetime = Field(
        description="When the producer made this checkpoint; its key must be valid then."
    )

    @property
    def partition_key(self) -> str:
        """The Kafka key: `<topic>:<partition>`, so one partition's checkpoints stay in order."""
        return f"{self.topic}:{self.partition}"


def checkpoint_json_schema() -> dict[str, Any]:
    schema = StreamCheckpoint.model_json_schema()
    schema["$id"] = f"urn:carenet:contract:{CHECKPOINT_TYPE}:v{CHECKPOINT_VERSION}"
    return schema
