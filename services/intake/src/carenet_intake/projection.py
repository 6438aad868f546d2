"""Intake's read model, without personal data: the patients each hospital registered, its
referral worklist and its inpatients.

A hospital's registration of a patient registered before is listed like any other, under its
own handle, until its diagnosis joins it to the patient: from then on the patient is listed.
SQL tables in intake's own store, kept by `carenet_kit.read_model_tables`: no patient is held
in memory between batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_intake.domain import (
    ON_WORKLIST,
    Inpatient,
    JoiningRegistration,
    Patient,
    Referral,
    ReferralStatus,
)
from carenet_kit.fields import copy_of
from carenet_kit.read_model_tables import Changes, SqlReadModel
from carenet_kit.sql_tables import Table


@dataclass
class RegisteredPatient:
    patient_id: UUID
    registered_at: datetime
    diagnoses: int = 0


@dataclass
class ReferralEntry:
    referral_id: UUID
    patient_id: UUID
    case_id: UUID
    from_center_id: str
    hospital_id: str
    reason: str
    risk_level: int
    accept_by: datetime
    received_at: datetime
    status: ReferralStatus = ReferralStatus.ISSUED
    admission_id: UUID | None = None


@dataclass
class CurrentStay:
    patient_id: UUID
    admission_id: UUID
    referral_id: UUID | None
    admitted_on: date


@dataclass
class Listing:
    """A hospital's registration, listed in the order registered: the patient it registered,
    or (a joining registration) its own handle until it is joined to the patient."""

    registration_id: UUID
    hospital_id: str
    joins: UUID | None = None
    """The patient registered before that a joining registration joins on its diagnosis."""
    joined: bool = False

    @property
    def listed_id(self) -> UUID:
        return self.joins if self.joined and self.joins is not None else self.registration_id


PATIENTS = Table("register_patients", RegisteredPatient, key=lambda p: p.patient_id, columns={})
"""Patients, and by its handle each joining registration until it is joined."""
LISTINGS = Table(
    "register_listings",
    Listing,
    key=lambda r: r.registration_id,
    columns={"hospital_id": lambda r: r.hospital_id},
)
REFERRALS = Table(
    "register_referrals",
    ReferralEntry,
    key=lambda r: Referral.create_id(r.referral_id),  # the aggregate's id
    columns={"hospital_id": lambda r: r.hospital_id, "status": lambda r: r.status},
)


@dataclass
class HospitalStay:
    hospital_id: str
    stay: CurrentStay


STAYS = Table(
    "register_stays",
    HospitalStay,
    key=lambda s: (s.hospital_id, s.stay.patient_id),
    columns={"hospital_id": lambda s: s.hospital_id},
)


class HospitalRegister(SqlReadModel):
    tables = (PATIENTS, LISTINGS, REFERRALS, STAYS)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Patient.Registered, changes: Changes) -> None:
        changes.add(PATIENTS, RegisteredPatient(e.originator_id, e.timestamp))
        changes.add(LISTINGS, Listing(e.originator_id, e.hospital_id))

    @apply.register
    def _(self, e: JoiningRegistration.Registered, changes: Changes) -> None:  # type: ignore[name-defined]
        changes.add(PATIENTS, RegisteredPatient(e.originator_id, e.timestamp))
        changes.add(LISTINGS, Listing(e.originator_id, e.hospital_id, joins=e.patient_id))

    @apply.register
    def _(self, e: JoiningRegistration.Joined, changes: Changes) -> None:  # type: ignore[name-defined]
        changes.change(LISTINGS, e.originator_id).joined = True
        changes.remove(PATIENTS, e.originator_id)

    @apply.register
    def _(self, e: Patient.DiagnosisRecorded, changes: Changes) -> None:
        changes.change(PATIENTS, e.originator_id).diagnoses += 1

    @apply.register
    def _(self, e: Patient.OutOfScopeDiagnosisRecorded, changes: Changes) -> None:
        changes.change(PATIENTS, e.originator_id).diagnoses += 1

    @apply.register
    def _(self, e: Referral.Received, changes: Changes) -> None:  # type: ignore[name-defined]
        changes.add(REFERRALS, copy_of(ReferralEntry, e, received_at=e.timestamp))

    @apply.register
    def _(self, e: Referral.Accepted, changes: Changes) -> None:
        changes.change(REFERRALS, e.originator_id).status = ReferralStatus.ACCEPTED

    @apply.register
    def _(self, e: Referral.Declined, changes: Changes) -> None:
        changes.change(REFERRALS, e.originator_id).status = ReferralStatus.DECLINED

    @apply.register
    def _(self, e: Referral.Cancelled, changes: Changes) -> None:  # type: ignore[name-defined]
        changes.change(REFERRALS, e.originator_id).status = ReferralStatus.CANCELLED

    @apply.register
    def _(self, e: Referral.Admitted, changes: Changes) -> None:  # type: ignore[name-defined]
        entry = changes.change(REFERRALS, e.originator_id)
        entry.status = ReferralStatus.ADMITTED
        entry.admission_id = e.admission_id

    @apply.register
    def _(self, e: Inpatient.Admitted, changes: Changes) -> None:
        stay = CurrentStay(e.patient_id, e.admission_id, e.referral_id, e.admitted_on)
        changes.add(STAYS, HospitalStay(e.hospital_id, stay))

    @apply.register
    def _(self, e: Inpatient.Discharged, changes: Changes) -> None:
        changes.remove(STAYS, (e.hospital_id, e.patient_id))

    def patients_of(self, hospital_id: str) -> list[RegisteredPatient]:
        listed = [r.listed_id for r in self.where(LISTINGS, hospital_id=hospital_id)]
        if not listed:
            return []
        marks = ", ".join("?" * len(listed))
        found = {p.patient_id: p for p in self.select(PATIENTS, f"key IN ({marks})", listed)}
        return [found[i] for i in listed]

    def worklist_of(
        self, hospital_id: str, statuses: frozenset[ReferralStatus] = ON_WORKLIST
    ) -> list[ReferralEntry]:
        """Most urgent first: by the time routing escalates an unaccepted referral."""
        marks = ", ".join("?" * len(statuses))
        found = self.select(
            REFERRALS, f"hospital_id = ? AND status IN ({marks})", [hospital_id, *statuses]
        )
        return sorted(found, key=lambda r: (r.accept_by, r.received_at))

    def inpatients_of(self, hospital_id: str) -> list[CurrentStay]:
        stays = [s.stay for s in self.where(STAYS, hospital_id=hospital_id)]
        return sorted(stays, key=lambda s: s.admitted_on)
