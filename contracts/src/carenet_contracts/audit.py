"""What the audit read side publishes: every read of a patient's history, by whom and why."""

from __future__ import annotations

from typing import ClassVar, Literal

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
