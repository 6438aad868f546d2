"""Intake's service layer: register patients and record diagnoses at certified hospitals."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID, uuid4

from carenet_contracts import DiagnosisCategory
from carenet_intake.domain import Hospital, IdentityClaim, Patient, categorise
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.inbound import CommandConflict, CommandRejected
from carenet_kit.outbox import Cause


@dataclass(frozen=True)
class Registration:
    hospital_id: str
    name: str
    national_id: str
    date_of_birth: date
    sex: str
    phone: str
    address: str
    region_code: str
    guardian: dict[str, str] | None


@dataclass(frozen=True)
class Diagnosis:
    hospital_id: str
    clinician_id: str
    icd10_code: str
    co_diagnoses: tuple[str, ...]
    diagnosed_on: date
    risk_level: int
    consent_given_by: str
    consent_given_on: date


@dataclass(frozen=True)
class PatientRecord:
    patient_id: UUID
    registration: Registration
    diagnosis_ids: tuple[UUID, ...]


class IntakeApplication(ServiceApplication):
    producer: ClassVar = "intake"

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        hospitals: dict[str, Hospital],
        pseudonym_key: bytes,
    ) -> None:
        super().__init__(env, outbound)
        self.hospitals = hospitals
        self._pseudonym_key = pseudonym_key

    def register_patient(self, registration: Registration, cause: Cause) -> UUID:
        self._require_certified(registration.hospital_id)
        digest = self._identity_digest(registration.national_id)
        if IdentityClaim.create_id(digest) in self.repository:
            raise CommandConflict("a patient with this national ID is already registered")
        patient = Patient(**registration.__dict__)
        claim = IdentityClaim(digest, patient.id)
        self.commit(patient, claim, cause=cause)
        return patient.id

    def record_diagnosis(
        self, patient_id: UUID, diagnosis: Diagnosis, cause: Cause
    ) -> tuple[UUID, DiagnosisCategory]:
        self._require_certified(diagnosis.hospital_id)
        category = categorise(diagnosis.icd10_code, diagnosis.co_diagnoses)
        if category is None:
            raise CommandRejected(
                f"ICD-10 {diagnosis.icd10_code} is not one of the six severe mental disorders "
                "in scope of community management"
            )
        patient: Patient = self.repository.get(patient_id)
        diagnosis_id = uuid4()
        patient.record_diagnosis(
            diagnosis_id=diagnosis_id,
            hospital_id=diagnosis.hospital_id,
            clinician_id=diagnosis.clinician_id,
            icd10_code=diagnosis.icd10_code,
            co_diagnoses=list(diagnosis.co_diagnoses),
            category=category.value,
            diagnosed_on=diagnosis.diagnosed_on,
            risk_level=diagnosis.risk_level,
            region_code=patient.region_code,
            consent_given_by=diagnosis.consent_given_by,
            consent_given_on=diagnosis.consent_given_on,
        )
        self.commit(patient, cause=cause)
        return diagnosis_id, category

    def patient_record(self, patient_id: UUID) -> PatientRecord:
        patient: Patient = self.repository.get(patient_id)
        return PatientRecord(
            patient_id=patient.id,
            registration=Registration(
                hospital_id=patient.registered_by,
                name=patient.name,
                national_id=patient.national_id,
                date_of_birth=patient.date_of_birth,
                sex=patient.sex,
                phone=patient.phone,
                address=patient.address,
                region_code=patient.region_code,
                guardian=patient.guardian,
            ),
            diagnosis_ids=tuple(patient.diagnoses),
        )

    def _require_certified(self, hospital_id: str) -> None:
        hospital = self.hospitals.get(hospital_id)
        if hospital is None or not hospital.certified:
            raise CommandRejected(f"hospital {hospital_id} is not a certified hospital")

    def _identity_digest(self, national_id: str) -> str:
        return hmac.new(self._pseudonym_key, national_id.encode(), hashlib.sha256).hexdigest()
