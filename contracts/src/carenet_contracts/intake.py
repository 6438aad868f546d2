"""What the hospital tier publishes (producer `intake`)."""

from __future__ import annotations

from datetime import date, datetime
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


class ReportingDeadlineMissed(Payload):
    """The hospital reported the diagnosis later than the rules' working-day deadline."""

    event_type: ClassVar[str] = "ReportingDeadlineMissed"
    producer: ClassVar[Producer] = "intake"

    diagnosis_id: UUID
    hospital_id: OrganisationId
    diagnosed_on: date
    deadline: date
    reported_on: date
    working_days_taken: int = Field(ge=0)
    calendar_version: str


class ReferralAccepted(Payload):
    """The hospital accepted a community referral."""

    event_type: ClassVar[str] = "ReferralAccepted"
    producer: ClassVar[Producer] = "intake"

    referral_id: UUID
    hospital_id: OrganisationId
    accepted_at: datetime


class ReferralDeclined(Payload):
    """The hospital declined a referral (no bed, patient unreachable, not indicated)."""

    event_type: ClassVar[str] = "ReferralDeclined"
    producer: ClassVar[Producer] = "intake"

    referral_id: UUID
    hospital_id: OrganisationId
    reason: str


class PatientAdmitted(Payload):
    """The patient was admitted to the hospital (after a referral, or directly)."""

    event_type: ClassVar[str] = "PatientAdmitted"
    producer: ClassVar[Producer] = "intake"

    admission_id: UUID
    hospital_id: OrganisationId
    referral_id: UUID | None
    admitted_on: date


class PatientDischarged(Payload):
    """The patient left the hospital; the community resumes follow-up."""

    event_type: ClassVar[str] = "PatientDischarged"
    producer: ClassVar[Producer] = "intake"

    admission_id: UUID
    hospital_id: OrganisationId
    referral_id: UUID | None
    discharged_on: date
