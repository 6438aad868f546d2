"""What the hospital tier publishes (producer `intake`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from carenet_contracts.common import DiagnosisCategory, OrganisationId, RegionCode, RiskLevel
from carenet_contracts.envelope import Payload, Producer


class DiagnosisRecorded(Payload):
    """A certified hospital diagnosed a severe mental disorder, with consent to community care."""

    event_type: ClassVar[str] = "DiagnosisRecorded"
    producer: ClassVar[Producer] = "intake"

    diagnosis_id: UUID
    hospital_id: OrganisationId
    icd10_code: str = Field(pattern=r"^[A-Z]\d{2}(\.\d{1,2})?$")
    category: DiagnosisCategory
    diagnosed_on: date
    risk_level: RiskLevel
    region_code: RegionCode = Field(description="Residence, for routing to a community center.")
