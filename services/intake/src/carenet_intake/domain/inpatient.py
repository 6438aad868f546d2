"""A patient's stays in hospital: at most one admission is open at a time, network-wide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_intake.domain.errors import StateConflict, WrongHospital
from carenet_kit.plausibility import Implausible

INPATIENT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:intake:inpatient")


@dataclass(frozen=True)
class Stay:
    admission_id: UUID
    hospital_id: str
    referral_id: UUID | None
    admitted_on: date


class Inpatient(Aggregate):
    """One per patient: its version guards against two admissions racing each other."""

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(INPATIENT_NAMESPACE, str(patient_id))

    @event("Started")
    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self.stay: Stay | None = None

    def admit(
        self, admission_id: UUID, hospital_id: str, referral_id: UUID | None, admitted_on: date
    ) -> None:
        if self.stay is not None:
            where = "here" if self.stay.hospital_id == hospital_id else "at another hospital"
            raise StateConflict(
                f"the patient is already admitted {where} since {self.stay.admitted_on}"
            )
        self._admit(
            patient_id=self.patient_id,
            admission_id=admission_id,
            hospital_id=hospital_id,
            referral_id=referral_id,
            admitted_on=admitted_on,
        )

    def discharge(self, hospital_id: str, discharged_on: date) -> Stay:
        stay = self.stay
        if stay is None:
            raise StateConflict("the patient is not admitted; there is nothing to discharge")
        if stay.hospital_id != hospital_id:
            raise WrongHospital("the patient is admitted at another hospital")
        if discharged_on < stay.admitted_on:
            raise Implausible(
                "discharged_on", "before_admission", "is before the admission it ends"
            )
        self._discharge(
            patient_id=self.patient_id,
            admission_id=stay.admission_id,
            hospital_id=hospital_id,
            referral_id=stay.referral_id,
            discharged_on=discharged_on,
        )
        return stay

    class Admitted(Aggregate.Event):
        patient_id: UUID
        admission_id: UUID
        hospital_id: str
        referral_id: UUID | None
        admitted_on: date

    @event(Admitted)
    def _admit(
        self,
        patient_id: UUID,
        admission_id: UUID,
        hospital_id: str,
        referral_id: UUID | None,
        admitted_on: date,
    ) -> None:
        self.stay = Stay(admission_id, hospital_id, referral_id, admitted_on)

    class Discharged(Aggregate.Event):
        patient_id: UUID
        admission_id: UUID
        hospital_id: str
        referral_id: UUID | None
        discharged_on: date

    @event(Discharged)
    def _discharge(
        self,
        patient_id: UUID,
        admission_id: UUID,
        hospital_id: str,
        referral_id: UUID | None,
        discharged_on: date,
    ) -> None:
        self.stay = None
