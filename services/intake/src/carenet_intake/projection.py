"""Intake's read model, without personal data: the patients each hospital registered, its
referral worklist and its inpatients.

A hospital's registration of a patient registered before is listed like any other, under its
own handle, until its diagnosis joins it to the patient: from then on the patient is listed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
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
class HospitalRegister:
    """Kept as a snapshot (`carenet_kit.projection`): a tree of values, so a patient listed at
    two hospitals is listed by id, its entry held once, in `by_patient`."""

    by_hospital: defaultdict[str, list[UUID]] = field(default_factory=lambda: defaultdict(list))
    """The ids of `by_patient` entries each hospital lists, in the order registered."""
    by_patient: dict[UUID, RegisteredPatient] = field(default_factory=dict)
    """Patients, and by its handle each joining registration until it is joined."""
    referrals: dict[UUID, ReferralEntry] = field(default_factory=dict)
    """By the referral aggregate's id."""
    inpatients: defaultdict[str, dict[UUID, CurrentStay]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    joining: dict[UUID, tuple[str, UUID]] = field(default_factory=dict)
    """Registrations that join a patient registered before: their hospital and patient."""

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Patient.Registered) -> None:
        self.by_patient[e.originator_id] = RegisteredPatient(e.originator_id, e.timestamp)
        self.by_hospital[e.hospital_id].append(e.originator_id)

    @apply.register
    def _(self, e: JoiningRegistration.Registered) -> None:  # type: ignore[name-defined]
        self.by_patient[e.originator_id] = RegisteredPatient(e.originator_id, e.timestamp)
        self.by_hospital[e.hospital_id].append(e.originator_id)
        self.joining[e.originator_id] = (e.hospital_id, e.patient_id)

    @apply.register
    def _(self, e: JoiningRegistration.Joined) -> None:  # type: ignore[name-defined]
        hospital_id, patient_id = self.joining.pop(e.originator_id)
        del self.by_patient[e.originator_id]
        listed = self.by_hospital[hospital_id]
        listed[:] = [patient_id if i == e.originator_id else i for i in listed]

    @apply.register
    def _(self, e: Patient.DiagnosisRecorded) -> None:
        self.by_patient[e.originator_id].diagnoses += 1

    @apply.register
    def _(self, e: Patient.OutOfScopeDiagnosisRecorded) -> None:
        self.by_patient[e.originator_id].diagnoses += 1

    @apply.register
    def _(self, e: Referral.Received) -> None:  # type: ignore[name-defined]
        self.referrals[e.originator_id] = ReferralEntry(
            referral_id=e.referral_id,
            patient_id=e.patient_id,
            case_id=e.case_id,
            from_center_id=e.from_center_id,
            hospital_id=e.hospital_id,
            reason=e.reason,
            risk_level=e.risk_level,
            accept_by=e.accept_by,
            received_at=e.timestamp,
        )

    @apply.register
    def _(self, e: Referral.Accepted) -> None:
        self.referrals[e.originator_id].status = ReferralStatus.ACCEPTED

    @apply.register
    def _(self, e: Referral.Declined) -> None:
        self.referrals[e.originator_id].status = ReferralStatus.DECLINED

    @apply.register
    def _(self, e: Referral.Cancelled) -> None:  # type: ignore[name-defined]
        self.referrals[e.originator_id].status = ReferralStatus.CANCELLED

    @apply.register
    def _(self, e: Referral.Admitted) -> None:  # type: ignore[name-defined]
        entry = self.referrals[e.originator_id]
        entry.status = ReferralStatus.ADMITTED
        entry.admission_id = e.admission_id

    @apply.register
    def _(self, e: Inpatient.Admitted) -> None:
        self.inpatients[e.hospital_id][e.patient_id] = CurrentStay(
            e.patient_id, e.admission_id, e.referral_id, e.admitted_on
        )

    @apply.register
    def _(self, e: Inpatient.Discharged) -> None:
        self.inpatients[e.hospital_id].pop(e.patient_id, None)

    def patients_of(self, hospital_id: str) -> list[RegisteredPatient]:
        return [self.by_patient[i] for i in self.by_hospital.get(hospital_id, [])]

    def worklist_of(
        self, hospital_id: str, statuses: frozenset[ReferralStatus] = ON_WORKLIST
    ) -> list[ReferralEntry]:
        """Most urgent first: by the time routing escalates an unaccepted referral."""
        return sorted(
            (
                r
                for r in self.referrals.values()
                if r.hospital_id == hospital_id and r.status in statuses
            ),
            key=lambda r: (r.accept_by, r.received_at),
        )

    def inpatients_of(self, hospital_id: str) -> list[CurrentStay]:
        return sorted(self.inpatients.get(hospital_id, {}).values(), key=lambda s: s.admitted_on)
