"""The audit service's outbound mapper: every history read becomes a `PatientHistoryRead`."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_audit.domain import HistoryRead
from carenet_contracts.audit import PatientHistoryRead
from carenet_kit.outbox import Outgoing


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case HistoryRead.Recorded() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=PatientHistoryRead(
                    reader_id=e.reader_id,
                    reader_organisation=e.reader_organisation,
                    reader_role=e.reader_role,
                    purpose=e.purpose,
                    justification=e.justification,
                    as_of=e.as_of,
                    outcome="granted" if e.granted else "denied",
                    events_returned=e.events_returned,
                ),
            )
    return None
