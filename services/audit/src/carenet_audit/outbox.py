"""The audit service's outbound mapper: every history read becomes a `PatientHistoryRead`, every
break-the-glass grant an `EmergencyAccessGranted`."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_audit.domain import EmergencyAccess, HistoryRead
from carenet_contracts.audit import EmergencyAccessGranted, PatientHistoryRead
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
        case EmergencyAccess.Granted() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=EmergencyAccessGranted(
                    grant_id=e.originator_id,
                    reader_id=e.reader_id,
                    reader_organisation=e.reader_organisation,
                    reader_role=e.reader_role,
                    reason=e.reason,
                    expires_at=e.expires_at,
                ),
            )
    return None
