"""The envelope every integration event travels in (see `contracts/MESSAGE_FORMAT.md`)."""

from __future__ import annotations

from functools import cache
from typing import ClassVar, Generic, Literal, Self, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Producer = Literal["intake", "routing", "casework", "notifications", "audit"]

Sha256Hex = Field(pattern=r"^[0-9a-f]{64}$")


class Payload(BaseModel):
    """What one kind of event says; the envelope says who, when and in which order.

    Consumers ignore fields they do not know (additive evolution); producers build payloads
    through the typed constructor, so they cannot add any.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    producer: ClassVar[Producer | None]
    """The one service that publishes it, or None for a contract every service publishes on
    its own topic (`RecordAccessed`)."""
    previous: ClassVar[type[Payload] | None] = None
    """The version this one replaces; `upcast` reads a payload of it as this version."""

    @classmethod
    def upcast(cls, old: Payload) -> Self:
        """This version of a payload of the `previous` version (a breaking change's upcaster)."""
        raise NotImplementedError(f"{cls.event_type} v{cls.schema_version} has no upcaster")


PayloadT = TypeVar("PayloadT", bound=Payload)


class Envelope(BaseModel, Generic[PayloadT]):
    """One integration event: identity, time, provenance, order and integrity, then data.

    `sequence` counts the events of one (producer, patient) stream from 1 without gaps, and
    `previous_hash` is the SHA-256 of the previous message of that stream as it was published,
    so a replay can prove that nothing was removed, altered or reordered.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID = Field(description="Idempotency key of the event.")
    event_type: str = Field(description="Stable name of the contract, never a code path.")
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(description="When it happened in the world.")
    recorded_at: AwareDatetime = Field(description="When the producing service learnt it.")
    producer: Producer
    patient_id: UUID = Field(description="Pseudonymous patient id; never a national id.")
    correlation_id: UUID = Field(description="Shared by every event of one pathway step chain.")
    causation_id: UUID | None = Field(description="The event that caused this one, if any.")
    sequence: int = Field(ge=1, description="Position in the (producer, patient) stream.")
    previous_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 (hex) of the previous message of this stream; null at sequence 1.",
    )
    data: PayloadT

    @model_validator(mode="after")
    def _matches_payload(self) -> Envelope[PayloadT]:
        kind = type(self.data)
        if (self.event_type, self.schema_version) != (kind.event_type, kind.schema_version) or (
            kind.producer not in (None, self.producer)
        ):
            raise ValueError(
                f"envelope says {self.event_type} v{self.schema_version} by {self.producer}, "
                f"data is {kind.event_type} v{kind.schema_version} by {kind.producer}"
            )
        if (self.sequence == 1) != (self.previous_hash is None):
            raise ValueError("previous_hash is null exactly at sequence 1")
        return self


@cache
def envelope_of(payload: type[PayloadT]) -> type[Envelope[PayloadT]]:
    """The envelope model for one contract (it serialises and validates that payload's fields).

    Cached: pydantic keeps parametrised models only weakly, and building one takes milliseconds.
    """
    return Envelope[payload]  # type: ignore[valid-type]
