"""What the audit service publishes: every read of a patient's history, by whom and why, and
every break-the-glass grant."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from carenet_contracts.envelope import Payload, Producer

Purpose = Literal["compliance-audit", "legal-request", "complaint", "quality-review"]


class PatientHistoryRead(Payload):
    """An auditor asked for one patient's history (granted or denied); `occurred_at` is when."""

    event_type: ClassVar[str] = "PatientHistoryRead"
    producer: ClassVar[Producer] = "audit"

    reader_id: str = Field(description="The person who asked (the token's subject).")
    reader_organisation: str
    reader_role: str
    purpose: Purpose
    justification: str = Field(
        max_length=200,
        description="The stated reason, e.g. a case number; never personal data.",
    )
    as_of: AwareDatetime | None = Field(
        default=None, description="The point in time asked for, if not now."
    )
    outcome: Literal["granted", "denied"]
    events_returned: int = Field(ge=0)


class EmergencyAccessGranted(Payload):
    """Break the glass: a clinician outside the patient's care network may read the record,
    for a stated reason, until `expires_at`; the patient's center is told."""

    event_type: ClassVar[str] = "EmergencyAccessGranted"
    producer: ClassVar[Producer] = "audit"

    grant_id: UUID
    reader_id: str = Field(description="The person granted access (the token's subject).")
    reader_organisation: str
    reader_role: str
    reason: str = Field(
        max_length=300, description="The emergency, as stated; never personal data."
    )
    expires_at: AwareDatetime
