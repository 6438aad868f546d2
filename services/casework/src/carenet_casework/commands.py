"""What casework is asked to do by the events it consumes (`policy` builds these from them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class OpenCase:
    """Open the patient's case at the center routing chose, with a case manager of its own."""

    patient_id: UUID
    center_id: str
    first_visit_due: date
    social_worker_ids: tuple[str, ...]
    """The center's social workers in routing's directory: the pool the case manager is from."""
    diagnosing_hospital_id: str
    category: str
    risk_level: int


@dataclass(frozen=True, slots=True)
class TransferCase:
    """Close the case at the old center and continue it at the new one."""

    patient_id: UUID
    to_center_id: str
    moved_on: date
    first_visit_due: date
    social_worker_ids: tuple[str, ...]
    """The new center's social workers in routing's directory."""


@dataclass(frozen=True, slots=True)
class RecordAdmission:
    """A hospital admitted the patient: the active case pauses its home follow-ups."""

    patient_id: UUID
    admission_id: UUID
    hospital_id: str
    admitted_on: date


@dataclass(frozen=True, slots=True)
class RecordDischarge:
    """A hospital discharged the patient: the active case resumes."""

    patient_id: UUID
    admission_id: UUID
    discharged_on: date


@dataclass(frozen=True, slots=True)
class EndReferral:
    """A referral the case holds open ended without a hospital stay to follow (cancelled)."""

    patient_id: UUID
    referral_id: UUID
    outcome: str


@dataclass(frozen=True, slots=True)
class RecordReferralNotAdmitted:
    """Routing gave up on a referral: the case asks for a joint follow-up instead."""

    patient_id: UUID
    referral_id: UUID
    outcome: str
    ended_at: datetime
    """When routing closed the referral; its local day under the rule set is the one that counts."""


@dataclass(frozen=True, slots=True)
class ReceiveContactDetails:
    """Keep the contact details intake sealed to one of the patient's cases."""

    patient_id: UUID
    case_id: UUID
    sealed: str


@dataclass(frozen=True, slots=True)
class EraseContactKeys:
    """The patient's personal data is erased: destroy the key of every case of the patient."""

    patient_id: UUID
    legal_basis: str
    reference: str
