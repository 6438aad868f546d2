"""Intake's service layer: patients and diagnoses at certified hospitals (the hospital's side
of two-way referral is `referral_desk`).

A registration answers alike whether the national ID was registered before or not, so that no
hospital learns who is a patient by registering IDs: see `register_patient`.
"""

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
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from carenet_contracts import DiagnosisCategory
from carenet_contracts.intake import ErasureBasis
from carenet_intake.commands import ShareContactDetails
from carenet_intake.domain import (
    Erasure,
    IdentityClaim,
    JoiningRegistration,
    Patient,
    PersonalData,
    RegistrationClaim,
)
from carenet_intake.domain.patient import PERSONAL_FIELDS
from carenet_intake.hospital_tier import personal_data_aad
from carenet_intake.referral_desk import ReferralDesk
from carenet_intake.rules import ReportingTimeliness, categorise, plausible_birth
from carenet_kit.access_log import AccessEntry, RecordAccess
from carenet_kit.auth import Actor
from carenet_kit.outbox import Cause
from carenet_kit.refusals import Refused
from carenet_kit.sealing import contact_context, encrypt, public_key_from_text, seal, to_text

log = structlog.get_logger()

JOIN_ACCESS = "join-care-network"
"""The access log's word for a hospital joining a patient's record by its diagnosis."""


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
    recorded_by: Actor
    """Who records it (the token's subject): named in the access log when it joins a patient."""
    override_reason: str | None = None
    """Required, and only allowed, for a diagnosis outside the six categories."""


@dataclass(frozen=True)
class RecordedDiagnosis:
    patient_id: UUID
    """The patient's own id, also when recorded through a registration that joined it."""
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


class IntakeApplication(ReferralDesk):
    producer: ClassVar = "intake"

    @retry(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(3), reraise=True)
    def register_patient(self, registration: Registration, cause: Cause) -> UUID:
        """A handle for the hospital to record its diagnosis through, answered alike whether
        the national ID was registered before or not, with the same work done (no timing tells).

        A new ID: the handle is the new patient's id. An ID registered before: the handle is a
        `JoiningRegistration`, which joins the patient at its diagnosis. The hospital asking
        again gets its handle again; of two registering one new ID at once, the second joins.
        """
        self.certified(registration.hospital_id)
        self.plausible("date_of_birth", registration.date_of_birth, None)
        plausible_birth(registration.date_of_birth, self.today())
        national_id = registration.national_id
        retry_digest = self._digest(f"{registration.hospital_id}/{national_id}")
        asked_before = self.find(RegistrationClaim.create_id(retry_digest))
        if isinstance(asked_before, RegistrationClaim):
            return asked_before.registration_id
        identity_digest = self._digest(national_id)
        claimed = self.find(IdentityClaim.create_id(identity_digest))
        handle = uuid4()
        # the data key is recorded with the registration's events, or not at all
        data_key = self.data_keys.make(handle)
        sealed = self._sealed(data_key.key, registration, handle)
        registered: Patient | JoiningRegistration
        if isinstance(claimed, IdentityClaim):
            # what the hospital entered, under a data key of its own, made as a new patient's
            registered = JoiningRegistration(
                id=handle,
                hospital_id=registration.hospital_id,
                patient_id=claimed.patient_id,
                personal_data=sealed,
            )
            claimed.register_again(handle)
        else:
            registered = Patient(
                id=handle,
                hospital_id=registration.hospital_id,
                region_code=registration.region_code,
                personal_data=sealed,
            )
            claimed = IdentityClaim(identity_digest, handle)
        self.commit(
            registered,
            claimed,
            RegistrationClaim(retry_digest, handle),
            cause=cause,
            new_keys=data_key.new_keys,
        )
        return handle

    @staticmethod
    def _sealed(data_key: bytes, registration: Registration, registration_id: UUID) -> str:
        plain = registration.personal_data.to_json()
        return to_text(encrypt(data_key, plain, personal_data_aad(registration_id)))

    def record_diagnosis(
        self, registration_id: UUID, diagnosis: Diagnosis, cause: Cause
    ) -> RecordedDiagnosis:
        """Record it; a late report is recorded too, in the same transaction, never refused.

        Through a registration that joins a patient registered before, the first diagnosis
        joins the patient's one record; the hospital's relation to the patient comes from it
        (as from every diagnosis), and the join is in the access log, which tells the center.
        """
        hospital = self.certified(diagnosis.hospital_id)
        registered = self.find(registration_id)
        joining = registered if isinstance(registered, JoiningRegistration) else None
        if joining is not None and joining.hospital_id != diagnosis.hospital_id:
            raise AggregateNotFoundError(registration_id)
        born = self.date_of_birth(registered)
        self.plausible("diagnosed_on", diagnosis.diagnosed_on, born)
        self.plausible("consent.given_on", diagnosis.consent_given_on, born)
        category = categorise(diagnosis.icd10_code, diagnosis.co_diagnoses)
        if category is None and not diagnosis.override_reason:
            raise Refused(
                f"ICD-10 {diagnosis.icd10_code} is not one of the six severe mental disorders "
                "in scope of community management; record it with an override_reason to keep "
                "it at the hospital (it is not routed to community management)"
            )
        if category is not None and diagnosis.override_reason:
            raise Refused(
                f"ICD-10 {diagnosis.icd10_code} is in scope ({category.value}); "
                "override_reason is only for diagnoses outside the six categories"
            )
        if joining is not None:
            patient = self._patient(joining.patient_id)
        elif isinstance(registered, Patient):
            patient = registered  # read once: it is the registration
        else:
            raise AggregateNotFoundError(registration_id)
        diagnosis_id = uuid4()
        joined = self._join(joining, diagnosis_id, diagnosis) if joining else []
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
            self.commit(patient, *joined, cause=cause)
            return RecordedDiagnosis(patient.id, diagnosis_id, None, None)
        patient.record_diagnosis(**common, category=category.value, region_code=patient.region_code)
        calendar = self.calendars.for_region(hospital.region_code)
        reporting = self.rules.reporting_timeliness(diagnosis.diagnosed_on, self.today(), calendar)
        if reporting.late:
            patient.miss_reporting_deadline(
                diagnosis_id=diagnosis_id,
                hospital_id=diagnosis.hospital_id,
                diagnosed_on=reporting.diagnosed_on,
                deadline=reporting.deadline,
                reported_on=reporting.reported_on,
                working_days_taken=reporting.working_days_taken,
                calendar_version=reporting.calendar_version,
                rule_set_version=reporting.rule_set_version,
            )
        self.commit(patient, *joined, cause=cause)
        return RecordedDiagnosis(patient.id, diagnosis_id, category, reporting)

    def _join(
        self, joining: JoiningRegistration, diagnosis_id: UUID, diagnosis: Diagnosis
    ) -> list[Aggregate]:
        """The first diagnosis through it joins the patient, logged as an access granted on the
        patient's own stream; a later one through it is an ordinary diagnosis."""
        if joining.joined_by is not None:
            return []
        joining.join(diagnosis_id)
        log.info("a registration joined a patient registered before")
        entry = AccessEntry(
            patient_id=joining.patient_id,
            reader_id=diagnosis.recorded_by.subject,
            reader_organisation=diagnosis.hospital_id,
            reader_role=diagnosis.recorded_by.role,
            record="intake.record_diagnosis",
            access=JOIN_ACCESS,
            purpose="care",
            granted=True,
        )
        return [joining, RecordAccess.of(entry)]

    def registering_hospital(self, registration_id: UUID) -> str | None:
        """The hospital whose registration this is, which may record diagnoses through it;
        None for an id that is no registration here."""
        registered = self.find(registration_id)
        if isinstance(registered, Patient):
            return registered.registered_by
        if isinstance(registered, JoiningRegistration):
            return registered.hospital_id
        return None

    def diagnosing_hospitals(self, registration_id: UUID) -> set[str] | None:
        """The hospitals in relation to the patient by a diagnosis recorded here, before the
        network hears of it (none for a registration not yet diagnosed); None for an id that
        is no registration here."""
        registered = self.find(registration_id)
        if isinstance(registered, Patient):
            return set(registered.diagnosing_hospitals)
        if isinstance(registered, JoiningRegistration):
            return set()
        return None

    def patient_record(self, patient_id: UUID) -> PatientRecord:
        patient = self._patient(patient_id)
        return PatientRecord(
            patient_id=patient.id,
            hospital_id=patient.registered_by,
            region_code=patient.region_code,
            personal_data=self.personal_data(patient),
            erasure=patient.erasure,
            diagnosis_ids=tuple(patient.diagnoses),
        )

    def share_contact_details(self, command: ShareContactDetails, cause: Cause) -> None:
        """Seal name, phone and address to the new case's key, for its center alone."""
        patient = self.find(command.patient_id)
        if not isinstance(patient, Patient):
            log.info("case opened for a patient not registered here")
            return
        if command.case_id in patient.contacts_shared:
            return
        personal = self.personal_data(patient)
        if personal is None:
            log.info("no contact details to share: the personal data was erased")
            return
        contact = {"name": personal.name, "phone": personal.phone, "address": personal.address}
        sealed = seal(
            json.dumps(contact, ensure_ascii=False).encode(),
            public_key_from_text(command.contact_key),
            contact_context(patient.id, command.case_id),
        )
        patient.share_contact_details(command.case_id, command.center_id, to_text(sealed))
        self.commit(patient, cause=cause)

    def erase_personal_data(
        self, patient_id: UUID, legal_basis: ErasureBasis, reference: str, cause: Cause
    ) -> Erasure:
        """Destroy the patient's data key, then record it; asked again, it changes nothing.

        The keys go first: if recording fails, the data is erased already and a repeated
        request records it. The keys of the ID's later registrations by other hospitals go
        before the patient's, whose data names the ID (the identity claim lists them).
        """
        patient = self._patient(patient_id)
        personal = self.personal_data(patient)
        if personal is not None:
            for registration_id in self._registered_again(personal.national_id):
                self.data_keys.destroy(registration_id)
        self.data_keys.destroy(patient_id)
        if patient.erasure is None:
            patient.erase_personal_data(legal_basis.value, reference, self.clock.now())
            self.commit(patient, cause=cause)
            log.info("personal data erased", legal_basis=legal_basis.value)
        assert patient.erasure is not None
        return patient.erasure

    def _registered_again(self, national_id: str) -> list[UUID]:
        claim = self.find(IdentityClaim.create_id(self._digest(national_id)))
        return list(claim.registered_again) if isinstance(claim, IdentityClaim) else []

    def _patient(self, patient_id: UUID) -> Patient:
        patient: object = self.repository.get(patient_id)
        if not isinstance(patient, Patient):
            raise AggregateNotFoundError(patient_id)
        return patient

    def _digest(self, text: str) -> str:
        """A keyed hash: the national ID it is made of is not stored."""
        return hmac.new(self._pseudonym_key, text.encode(), hashlib.sha256).hexdigest()
