"""Intake's read model: the patients each hospital registered, without personal data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_intake.domain import Patient


@dataclass
class RegisteredPatient:
    patient_id: UUID
    registered_at: datetime
    diagnoses: int = 0


@dataclass
class HospitalRegister:
    by_hospital: dict[str, list[RegisteredPatient]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_patient: dict[UUID, RegisteredPatient] = field(default_factory=dict)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Patient.Registered) -> None:  # type: ignore[name-defined]
        entry = RegisteredPatient(e.originator_id, e.timestamp)
        self.by_patient[e.originator_id] = entry
        self.by_hospital[e.hospital_id].append(entry)

    @apply.register
    def _(self, e: Patient.DiagnosisRecorded) -> None:
        self.by_patient[e.originator_id].diagnoses += 1

    def patients_of(self, hospital_id: str) -> list[RegisteredPatient]:
        return list(self.by_hospital.get(hospital_id, []))
