"""Intake's service layer: patients and diagnoses at certified hospitals; the hospital's side
of two-way referral (worklist, accept, decline, admit, discharge)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import AggregateNotFoundError

from carenet_contracts import DiagnosisCategory, Envelope
from carenet_contracts.casework import CaseOpened
from carenet_contracts.intake import ErasureBasis
from carenet_contracts.routing import ReferralCancelled, ReferralIssued
from carenet_intake.domain import (
    DeclineReason,
    Erasure,
    Hospital,
    IdentityClaim,
    Inpatient,
    Patient,
    PersonalData,
    Referral,
    Stay,
)
from carenet_intake.domain.patient import PERSONAL_FIELDS
from carenet_intake.rules import CHINA, ReportingTimeliness, categorise, reporting_timeliness
from carenet_intake.workdays import WorkingDayCalendars
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.inbound import CommandConflict, CommandRejected
from carenet_kit.keystore import KeyStore
from carenet_kit.outbox import Cause
from carenet_kit.sealing import decrypt, encrypt, from_text, public_key_from_text, seal, to_text

log = structlog.get_logger()


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

    @property
    def personal_data(self) -> PersonalData:
        return PersonalData(**{f: getattr(self, f) for f in PERSONAL_FIELDS})


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
    override_reason: str | None = None
    """Required, and only allowed, for a diagnosis outside the six categories."""


@dataclass(frozen=True)
class RecordedDiagnosis:
    diagnosis_id: UUID
    category: DiagnosisCategory | None
    """None: outside the six categories, kept in intake on an override reason."""
    reporting: ReportingTimeliness | None


@dataclass(frozen=True)
class PatientRecord:
    patient_id: UUID
    hospital_id: str
    region_code: str
    personal_data: PersonalData | None
    """None once erased."""
    erasure: Erasure | None
    diagnosis_ids: tuple[UUID, ...]


class IntakeApplication(ServiceApplication):
    producer: ClassVar = "intake"

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        hospitals: dict[str, Hospital],
        pseudonym_key: bytes,
        master_key: bytes,
        calendars: WorkingDayCalendars | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.hospitals = hospitals
        self.calendars = calendars or WorkingDayCalendars()
        self._pseudonym_key = pseudonym_key
        self.data_keys = KeyStore.construct(self.factory, master_key, DATA_KEY_PURPOSE)
        """One data key per patient; destroying it erases the patient's personal data."""

    def today(self) -> date:
        """The date in China by the application's clock: the day a report is made on."""
        return self.clock.now().astimezone(CHINA).date()

    def register_patient(self, registration: Registration, cause: Cause) -> UUID:
        self.certified(registration.hospital_id)
        digest = self._identity_digest(registration.national_id)
        if IdentityClaim.create_id(digest) in self.repository:
            raise CommandConflict("a patient with this national ID is already registered")
        patient_id = uuid4()
        data_key = self.data_keys.create(patient_id)
        patient = Patient(
            id=patient_id,
            hospital_id=registration.hospital_id,
            region_code=registration.region_code,
            personal_data=to_text(
                encrypt(data_key, registration.personal_data.to_json(), _aad(patient_id))
            ),
        )
        claim = IdentityClaim(digest, patient.id)
        self.commit(patient, claim, cause=cause)
        return patient.id

    def record_diagnosis(
        self, patient_id: UUID, diagnosis: Diagnosis, cause: Cause
    ) -> RecordedDiagnosis:
        """Record it; a late report is recorded too, in the same transaction, never refused."""
        hospital = self.certified(diagnosis.hospital_id)
        reported_on = self.today()
        self.not_in_future("diagnosed_on", diagnosis.diagnosed_on)
        category = categorise(diagnosis.icd10_code, diagnosis.co_diagnoses)
        if category is None and not diagnosis.override_reason:
            raise CommandRejected(
                f"ICD-10 {diagnosis.icd10_code} is not one of the six severe mental disorders "
                "in scope of community management; record it with an override_reason to keep "
                "it at the hospital (it is not routed to community management)"
            )
        if category is not None and diagnosis.override_reason:
            raise CommandRejected(
                f"ICD-10 {diagnosis.icd10_code} is in scope ({category.value}); "
                "override_reason is only for diagnoses outside the six categories"
            )
        patient: Patient = self.repository.get(patient_id)
        diagnosis_id = uuid4()
        common: dict[str, Any] = {
            "diagnosis_id": diagnosis_id,
            "hospital_id": diagnosis.hospital_id,
            "clinician_id": diagnosis.clinician_id,
            "icd10_code": diagnosis.icd10_code,
            "co_diagnoses": list(diagnosis.co_diagnoses),
            "diagnosed_on": diagnosis.diagnosed_on,
            "risk_level": diagnosis.risk_level,
            "consent_given_by": diagnosis.consent_given_by,
            "consent_given_on": diagnosis.consent_given_on,
        }
        if category is None:
            assert diagnosis.override_reason is not None
            patient.record_out_of_scope_diagnosis(
                **common, override_reason=diagnosis.override_reason
            )
            self.commit(patient, cause=cause)
            return RecordedDiagnosis(diagnosis_id, None, None)
        patient.record_diagnosis(**common, category=category.value, region_code=patient.region_code)
        calendar = self.calendars.for_region(hospital.region_code)
        reporting = reporting_timeliness(diagnosis.diagnosed_on, reported_on, calendar)
        if reporting.late:
            patient.miss_reporting_deadline(
                diagnosis_id=diagnosis_id,
                hospital_id=diagnosis.hospital_id,
                diagnosed_on=reporting.diagnosed_on,
                deadline=reporting.deadline,
                reported_on=reporting.reported_on,
                working_days_taken=reporting.working_days_taken,
                calendar_version=reporting.calendar_version,
            )
        self.commit(patient, cause=cause)
        return RecordedDiagnosis(diagnosis_id, category, reporting)

    def registering_hospital(self, patient_id: UUID) -> str | None:
        """The hospital that registered the patient, or None for a patient unknown here."""
        patient: Patient | None = self.find(patient_id)
        return None if patient is None else patient.registered_by

    def patient_record(self, patient_id: UUID) -> PatientRecord:
        patient = self._patient(patient_id)
        return PatientRecord(
            patient_id=patient.id,
            hospital_id=patient.registered_by,
            region_code=patient.region_code,
            personal_data=self._personal_data(patient),
            erasure=patient.erasure,
            diagnosis_ids=tuple(patient.diagnoses),
        )

    def share_contact_details(self, opened: Envelope[CaseOpened], cause: Cause) -> None:
        """Seal name, phone and address to the new case's key, for its center alone."""
        case = opened.data
        patient = self.find(opened.patient_id)
        if not isinstance(patient, Patient):
            log.info("case opened for a patient not registered here")
            return
        if case.contact_key is None or case.case_id in patient.contacts_shared:
            return
        personal = self._personal_data(patient)
        if personal is None:
            log.info("no contact details to share: the personal data was erased")
            return
        contact = {"name": personal.name, "phone": personal.phone, "address": personal.address}
        sealed = seal(
            json.dumps(contact, ensure_ascii=False).encode(),
            public_key_from_text(case.contact_key),
            contact_context(patient.id, case.case_id),
        )
        patient.share_contact_details(case.case_id, case.center_id, to_text(sealed))
        self.commit(patient, cause=cause)

    def erase_personal_data(
        self, patient_id: UUID, legal_basis: ErasureBasis, reference: str, cause: Cause
    ) -> Erasure:
        """Destroy the patient's data key, then record it; asked again, it changes nothing.

        The key goes first: if recording fails, the data is erased already and a repeated
        request records it.
        """
        patient = self._patient(patient_id)
        self.data_keys.destroy(patient_id)
        if patient.erasure is None:
            patient.erase_personal_data(legal_basis.value, reference, self.clock.now())
            self.commit(patient, cause=cause)
            log.info("personal data erased", legal_basis=legal_basis.value)
        assert patient.erasure is not None
        return patient.erasure

    def _patient(self, patient_id: UUID) -> Patient:
        patient: object = self.repository.get(patient_id)
        if not isinstance(patient, Patient):
            raise AggregateNotFoundError(patient_id)
        return patient

    def _personal_data(self, patient: Patient) -> PersonalData | None:
        """The patient's personal data in clear; None once erased (the key is gone)."""
        if patient.erasure is not None:
            return None
        if patient.legacy_personal_data is not None:
            return PersonalData(**patient.legacy_personal_data)
        data_key = self.data_keys.get(patient.id)
        if data_key is None:
            return None
        return PersonalData.from_json(
            decrypt(data_key, from_text(patient.personal_data), _aad(patient.id))
        )

    def receive_referral(self, issued: ReferralIssued, patient_id: UUID, cause: Cause) -> None:
        """Put a community referral on the addressed hospital's worklist."""
        self.certified(issued.hospital_id)
        referral_id = Referral.create_id(issued.referral_id)
        if referral_id in self.repository:
            log.info("referral already on the worklist", referral_id=str(issued.referral_id))
            self.commit(cause=cause)
            return
        referral = Referral(
            referral_id=issued.referral_id,
            patient_id=patient_id,
            case_id=issued.case_id,
            from_center_id=issued.from_center_id,
            hospital_id=issued.hospital_id,
            reason=issued.reason.value,
            risk_level=issued.risk_level,
            accept_by=issued.accept_by,
        )
        self.commit(referral, cause=cause)

    def cancel_referral(self, cancelled: ReferralCancelled, cause: Cause) -> None:
        """Take it off the worklist, unless the patient was admitted on it (then log why)."""
        try:
            referral: Referral = self.repository.get(Referral.create_id(cancelled.referral_id))
        except AggregateNotFoundError:
            raise CommandRejected(
                f"referral {cancelled.referral_id} was never received here"
            ) from None
        unchanged = referral.cancel(cancelled.hospital_id, cancelled.reason)
        if unchanged is not None:
            log.warning(
                "referral cancellation changed nothing",
                referral_id=str(cancelled.referral_id),
                why=unchanged,
            )
        self.commit(referral, cause=cause)

    def accept_referral(self, referral_id: UUID, hospital_id: str, cause: Cause) -> None:
        referral = self._referral(referral_id)
        referral.accept(hospital_id, accepted_at=self.clock.now())
        self.commit(referral, cause=cause)

    def decline_referral(
        self,
        referral_id: UUID,
        hospital_id: str,
        reason: DeclineReason,
        note: str | None,
        cause: Cause,
    ) -> None:
        referral = self._referral(referral_id)
        referral.decline(hospital_id, reason, note, declined_at=self.clock.now())
        self.commit(referral, cause=cause)

    def admit(
        self,
        patient_id: UUID,
        hospital_id: str,
        admitted_on: date | None,
        referral_id: UUID | None,
        cause: Cause,
    ) -> UUID:
        """Admit on a referral (accepting it if not yet accepted) or directly, without one."""
        self.certified(hospital_id)
        admitted_on = admitted_on or self.today()
        self.not_in_future("admitted_on", admitted_on)
        referral: Referral | None = None
        inpatient = self._inpatient(patient_id)
        if referral_id is not None:
            referral = self._referral(referral_id)
            if referral.patient_id != patient_id:
                raise CommandRejected("the referral is for another patient")
        elif inpatient is None and not isinstance(self.repository.get(patient_id), Patient):
            raise AggregateNotFoundError(patient_id)
        inpatient = inpatient or Inpatient(patient_id)
        admission_id = uuid4()
        inpatient.admit(admission_id, hospital_id, referral_id, admitted_on)
        if referral is None:
            self.commit(inpatient, cause=cause)
        else:
            referral.admit(hospital_id, admission_id, accepted_at=self.clock.now())
            self.commit(referral, inpatient, cause=cause)
        return admission_id

    def discharge(
        self, patient_id: UUID, hospital_id: str, discharged_on: date | None, cause: Cause
    ) -> Stay:
        """End the open stay; the community resumes follow-up when it hears of it."""
        discharged_on = discharged_on or self.today()
        self.not_in_future("discharged_on", discharged_on)
        inpatient = self._inpatient(patient_id) or Inpatient(patient_id)
        stay = inpatient.discharge(hospital_id, discharged_on)
        self.commit(inpatient, cause=cause)
        return stay

    def _referral(self, referral_id: UUID) -> Referral:
        referral: Referral = self.repository.get(Referral.create_id(referral_id))
        return referral

    def _inpatient(self, patient_id: UUID) -> Inpatient | None:
        try:
            inpatient: Inpatient = self.repository.get(Inpatient.create_id(patient_id))
        except AggregateNotFoundError:
            return None
        return inpatient

    def certified(self, hospital_id: str) -> Hospital:
        hospital = self.hospitals.get(hospital_id)
        if hospital is None or not hospital.certified:
            raise CommandRejected(f"hospital {hospital_id} is not a certified hospital")
        return hospital

    def not_in_future(self, field: str, day: date) -> None:
        if day > self.today():
            raise CommandRejected(f"{field} {day} is after today ({self.today()}, China time)")

    def _identity_digest(self, national_id: str) -> str:
        return hmac.new(self._pseudonym_key, national_id.encode(), hashlib.sha256).hexdigest()


DATA_KEY_PURPOSE = "personal-data"


def _aad(patient_id: UUID) -> bytes:
    """Binds the ciphertext to its patient: moved to another patient's event, it won't open."""
    return f"carenet/intake/personal-data/{patient_id}".encode()


def contact_context(patient_id: UUID, case_id: UUID) -> bytes:
    """The HPKE info of `ContactDetailsShared`: the sealed details open for this case only."""
    return f"carenet/contact-details/{patient_id}/{case_id}".encode()
