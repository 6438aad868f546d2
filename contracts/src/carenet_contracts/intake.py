"""What the hospital tier publishes (producer `intake`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Literal
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
    rule_set_version: str | None = Field(
        default=None,
        description="The version of the rule set whose working-day deadline was missed "
        "(absent from reports published before intake named it).",
    )


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


SealingScheme = Literal["HPKE-base/DHKEM-X25519-HKDF-SHA256/HKDF-SHA256/AES-256-GCM"]


class ContactDetailsShared(Payload):
    """The patient's name, phone and address, sealed to the public key of one case.

    Only the community health center holding that case's private key can open `sealed`
    (`CaseOpened.contact_key`); no other subscriber of the topic can read it. The sealed text is
    JSON `{"name", "phone", "address"}`; the HPKE `info` is
    `carenet/contact-details/<patient_id>/<case_id>`, so it opens for that case only.
    """

    event_type: ClassVar[str] = "ContactDetailsShared"
    producer: ClassVar[Producer] = "intake"

    case_id: UUID
    center_id: OrganisationId
    scheme: SealingScheme = "HPKE-base/DHKEM-X25519-HKDF-SHA256/HKDF-SHA256/AES-256-GCM"
    sealed: str = Field(
        min_length=1,
        max_length=8192,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="HPKE encapsulated key followed by the ciphertext, in standard base64.",
    )


class ErasureBasis(StrEnum):
    """The legal grounds on which a patient's personal data is erased."""

    PURPOSE_ACHIEVED = "pipl_47_purpose_achieved"
    """PIPL art. 47(1): the purpose is achieved, cannot be achieved, or no longer needs it."""
    SERVICE_ENDED_OR_RETENTION_EXPIRED = "pipl_47_service_ended_or_retention_expired"
    """PIPL art. 47(2): the handler stopped the service, or the retention period expired."""
    CONSENT_WITHDRAWN = "pipl_47_consent_withdrawn"
    """PIPL art. 47(3): the individual withdrew consent."""
    UNLAWFUL_PROCESSING = "pipl_47_unlawful_processing"
    """PIPL art. 47(4): processed in violation of laws, regulations or the agreement."""
    OTHER_LEGAL_GROUND = "pipl_47_other_legal_ground"
    """PIPL art. 47(5): other circumstances provided by laws or administrative regulations."""
    COURT_ORDER = "court_order"


class PersonalDataErased(Payload):
    """The patient's personal data was erased: its key is destroyed, the history stays.

    Every copy encrypted under the patient's keys (intake's store, contact details sealed to
    the patient's cases) is unreadable from now on; consumers destroy the keys they hold.
    """

    event_type: ClassVar[str] = "PersonalDataErased"
    producer: ClassVar[Producer] = "intake"

    legal_basis: ErasureBasis
    reference: str = Field(
        pattern=r"^[A-Za-z0-9_./:-]{1,64}$",
        description="The request's or court order's file reference; never personal data.",
    )
