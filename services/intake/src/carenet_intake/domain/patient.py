"""The hospital tier: a registered patient and the diagnoses certified hospitals record.

Personal data lives here, encrypted, and nowhere else in clear; other services know the
patient by the pseudonymous id, and a case's center gets the contact details sealed to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


@dataclass(frozen=True)
class Hospital:
    id: str
    certified: bool
    region_code: str
    """Where it is: its working-day calendar is the one of this region."""


PERSONAL_FIELDS = ("name", "national_id", "date_of_birth", "sex", "phone", "address", "guardian")


@dataclass(frozen=True)
class PersonalData:
    """Who the patient is. Stored only encrypted with the patient's own data key."""

    name: str
    national_id: str
    date_of_birth: date
    sex: str
    phone: str
    address: str
    guardian: dict[str, str] | None

    def to_json(self) -> bytes:
        return json.dumps(
            {**self.__dict__, "date_of_birth": self.date_of_birth.isoformat()},
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> PersonalData:
        fields: dict[str, Any] = json.loads(data)
        return cls(**fields | {"date_of_birth": date.fromisoformat(fields["date_of_birth"])})


@dataclass(frozen=True)
class Erasure:
    legal_basis: str
    reference: str
    erased_at: datetime


class Patient(Aggregate):
    """A patient as a hospital registered them, with the diagnoses recorded since.

    The personal data is held as ciphertext under the patient's data key (intake's keystore):
    the events, snapshots and this aggregate never hold it in clear, and destroying the key
    erases it while the clinical history stays.
    """

    class Registered(Aggregate.Created):
        class_version = 2

        hospital_id: str
        region_code: str
        personal_data: str
        """`PersonalData` as JSON, AES-256-GCM under the patient's data key, base64."""
        legacy_personal_data: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Registered before encryption at rest: the fields were stored in clear. They stay
            readable until an erasure hides them; only a migration removes those bytes."""
            state["legacy_personal_data"] = {f: state.pop(f) for f in PERSONAL_FIELDS}
            state["personal_data"] = ""

    @event(Registered)
    def __init__(
        self,
        id: UUID,  # chosen by the application, which makes the data key for it first
        hospital_id: str,
        region_code: str,
        personal_data: str,
        legacy_personal_data: dict[str, Any] | None = None,
    ) -> None:
        self.registered_by = hospital_id
        self.region_code = region_code
        self.personal_data = personal_data
        self.legacy_personal_data = legacy_personal_data
        self.diagnoses: list[UUID] = []
        self.diagnosing_hospitals: list[str] = []
        """The hospitals that recorded a diagnosis: registering alone relates a hospital to
        nobody; its diagnosis, recorded with consent, does."""
        self.contacts_shared: list[UUID] = []
        """The cases whose center received the contact details."""
        self.erasure: Erasure | None = None

    class ContactDetailsShared(Aggregate.Event):
        """Name, phone and address sealed to one case's key, for that center alone."""

        case_id: UUID
        center_id: str
        sealed: str

    @event(ContactDetailsShared)
    def share_contact_details(self, case_id: UUID, center_id: str, sealed: str) -> None:
        self.contacts_shared.append(case_id)

    class PersonalDataErased(Aggregate.Event):
        """The data key is destroyed: the personal data is unreadable; the history stays."""

        legal_basis: str
        reference: str
        erased_at: datetime

    @event(PersonalDataErased)
    def erase_personal_data(self, legal_basis: str, reference: str, erased_at: datetime) -> None:
        self.erasure = Erasure(legal_basis, reference, erased_at)
        self.legacy_personal_data = None

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
        self._diagnosed(diagnosis_id, hospital_id)

    def _diagnosed(self, diagnosis_id: UUID, hospital_id: str) -> None:
        self.diagnoses.append(diagnosis_id)
        if hospital_id not in self.diagnosing_hospitals:
            self.diagnosing_hospitals.append(hospital_id)

    class ReportingDeadlineMissed(Aggregate.Event):
        """The diagnosis was reported after the working-day deadline, by this calendar."""

        diagnosis_id: UUID
        hospital_id: str
        diagnosed_on: date
        deadline: date
        reported_on: date
        working_days_taken: int
        calendar_version: str
        rule_set_version: str | None
        """The rule set whose deadline was missed; None in stores written before it was kept."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["rule_set_version"] = None

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
        rule_set_version: str | None,
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
        self._diagnosed(diagnosis_id, hospital_id)


class IdentityClaim(Aggregate):
    """Claims a national ID for one patient, so that a second registration of it joins it.

    Its id is derived from a keyed hash of the national ID; the ID itself is not stored here.
    """

    @staticmethod
    def create_id(identity_digest: str) -> UUID:
        return UUID(identity_digest[:32])

    @event("Claimed")
    def __init__(self, identity_digest: str, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self.registered_again: list[UUID] = []
        """The registrations of the ID since, by any hospital: they join the patient."""

    @event("RegisteredAgain")
    def register_again(self, registration_id: UUID) -> None:
        self.registered_again.append(registration_id)
