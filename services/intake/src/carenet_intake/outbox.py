"""Intake's outbound mapper: which domain events other services hear about, and what they carry.

Only `DiagnosisRecorded` leaves intake, and it carries no name, national ID, phone or address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts import DiagnosisCategory
from carenet_contracts.intake import DiagnosisRecorded
from carenet_intake.domain import Patient
from carenet_kit.outbox import Outgoing


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    if not isinstance(domain_event, Patient.DiagnosisRecorded):
        return None
    e = domain_event
    return Outgoing(
        patient_id=e.originator_id,
        occurred_at=datetime.combine(e.diagnosed_on, datetime.min.time(), UTC),
        payload=DiagnosisRecorded(
            diagnosis_id=e.diagnosis_id,
            hospital_id=e.hospital_id,
            icd10_code=e.icd10_code,
            category=DiagnosisCategory(e.category),
            diagnosed_on=e.diagnosed_on,
            risk_level=e.risk_level,
            region_code=e.region_code,
        ),
    )
