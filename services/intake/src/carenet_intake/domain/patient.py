"""The hospital tier: a registered patient and the diagnoses certified hospitals record.

Personal data lives here and nowhere else; other services know the patient by the
pseudonymous id only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event


@dataclass(frozen=True)
class Hospital:
    id: str
    certified: bool
    region_code: str
    """Where it is: its working-day calendar is the one of this region."""


class Patient(Aggregate):
    """A patient as a hospital registered them, with the diagnoses recorded since."""

    @event("Registered")
    def __init__(
        self,
        hospital_id: str,
        name: str,
        national_id: str,
        date_of_birth: date,
        sex: str,
        phone: str,
        address: str,
        region_code: str,
        guardian: dict[str, str] | None,
    ) -> None:
        self.registered_by = hospital_id
        self.name = name
        self.national_id = national_id
        self.date_of_birth = date_of_birth
        self.sex = sex
        self.phone = phone
        self.address = address
        self.region_code = region_code
        self.guardian = guardian
        self.diagnoses: list[UUID] = []

    class DiagnosisRecorded(Aggregate.Event):
        """A diagnosis, with the residence at that time and the consent to community care."""

        diagnosis_id: UUID
        hospital_id: str
        clinician_id: str
        icd10_code: str
        co_diagnoses: list[str]
        category: str
        diagnosed_on: date
        risk_level: int
        region_code: str
        consent_given_by: str
        consent_given_on: date

    @event(DiagnosisRecorded)
    def record_diagnosis(
        self,
        diagnosis_id: UUID,
        hospital_id: str,
        clinician_id: str,
        icd10_code: str,
        co_diagnoses: list[str],
        category: str,
        diagnosed_on: date,
        risk_level: int,
        region_code: str,
        consent_given_by: str,
        consent_given_on: date,
    ) -> None:
        self.diagnoses.append(diagnosis_id)

    class ReportingDeadlineMissed(Aggregate.Event):
        """The diagnosis was reported after the working-day deadline, by this calendar."""

        diagnosis_id: UUID
        hospital_id: str
        diagnosed_on: date
        deadline: date
        reported_on: date
        working_days_taken: int
        calendar_version: str

    @event(ReportingDeadlineMissed)
    def miss_reporting_deadline(
        self,
        diagnosis_id: UUID,
        hospital_id: str,
        diagnosed_on: date,
        deadline: date,
        reported_on: date,
        working_days_taken: int,
        calendar_version: str,
    ) -> None:
        """A fact about the report, recorded with the diagnosis; nothing else changes."""

    class OutOfScopeDiagnosisRecorded(Aggregate.Event):
        """A diagnosis outside the six categories, kept here on a clinician's explicit reason.

        It does not enter severe-disorder management: no other service hears of it.
        """

        diagnosis_id: UUID
        hospital_id: str
        clinician_id: str
        icd10_code: str
        co_diagnoses: list[str]
        diagnosed_on: date
        risk_level: int
        override_reason: str
        consent_given_by: str
        consent_given_on: date

    @event(OutOfScopeDiagnosisRecorded)
    def record_out_of_scope_diagnosis(
        self,
        diagnosis_id: UUID,
        hospital_id: str,
        clinician_id: str,
        icd10_code: str,
        co_diagnoses: list[str],
        diagnosed_on: date,
        risk_level: int,
        override_reason: str,
        consent_given_by: str,
        consent_given_on: date,
    ) -> None:
        self.diagnoses.append(diagnosis_id)


class IdentityClaim(Aggregate):
    """Claims a national ID for one patient, so a second registration of it conflicts.

    Its id is derived from a keyed hash of the national ID; the ID itself is not stored here.
    """

    @staticmethod
    def create_id(identity_digest: str) -> UUID:
        return UUID(identity_digest[:32])

    @event("Claimed")
    def __init__(self, identity_digest: str, patient_id: UUID) -> None:
        self.patient_id = patient_id
