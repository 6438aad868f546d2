"""The hospital tier: a registered patient and the diagnoses certified hospitals record.

Personal data lives here and nowhere else; other services know the patient by the
pseudonymous id only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from carenet_contracts import DiagnosisCategory

IN_SCOPE = {
    "F20": DiagnosisCategory.SCHIZOPHRENIA,
    "F25": DiagnosisCategory.SCHIZOAFFECTIVE_DISORDER,
    "F22": DiagnosisCategory.PARANOID_PSYCHOSIS,
    "F31": DiagnosisCategory.BIPOLAR_DISORDER,
}


def categorise(icd10_code: str, co_diagnoses: tuple[str, ...] = ()) -> DiagnosisCategory | None:
    """The severe-disorder category of a diagnosis (care-pathway rules), or None if out of scope.

    F06 counts only with epilepsy (G40) recorded; F70-F79 only with a co-recorded mental
    disorder outside F70-F79.
    """
    block = icd10_code[:3]
    co_blocks = {code[:3] for code in co_diagnoses}
    if block in IN_SCOPE:
        return IN_SCOPE[block]
    if block == "F06" and "G40" in co_blocks:
        return DiagnosisCategory.EPILEPSY_MENTAL_DISORDER
    if "F70" <= block <= "F79" and any(
        b.startswith("F") and not "F70" <= b <= "F79" for b in co_blocks
    ):
        return DiagnosisCategory.INTELLECTUAL_DISABILITY_MENTAL_DISORDER
    return None


@dataclass(frozen=True)
class Hospital:
    id: str
    certified: bool


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
