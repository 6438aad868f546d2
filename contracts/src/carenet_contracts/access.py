"""Access to patient records, which every service publishes on its own topic.

Each service records every read of personal or clinical data it answers, and every refusal,
as a `RecordAccessed` on its own topic, in the same transaction that decides it: an auditor
replaying the stream sees who looked at what, when, why and with which outcome.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from carenet_contracts.envelope import Payload

AccessPurpose = Literal["care", "emergency", "audit", "operations"]


class RecordAccessed(Payload):
    """Someone read part of a patient's record, or was refused it; `occurred_at` is when."""

    event_type: ClassVar[str] = "RecordAccessed"
    producer: ClassVar[None] = None

    reader_id: str = Field(description="The person who asked (the token's subject).")
    reader_organisation: str
    reader_role: str
    record: str = Field(
        max_length=80,
        description="What was asked for: the API operation, e.g. 'intake.read_patient'.",
    )
    access: str = Field(
        max_length=40, description="The kind of access: 'read-identity' or 'read-care'."
    )
    purpose: AccessPurpose = Field(
        description="'care' for the patient's own care network, 'emergency' under a "
        "break-the-glass grant, 'audit' for an auditor, 'operations' for an operator."
    )
    outcome: Literal["granted", "denied"]
    emergency_access_id: UUID | None = Field(
        default=None, description="The break-the-glass grant the read was made under."
    )
