"""The audit service's outbound mapper: every history read becomes a `PatientHistoryRead`, every
break-the-glass grant an `EmergencyAccessGranted`."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_audit.domain import EmergencyAccess, HistoryRead
from carenet_contracts.audit import EmergencyAccessGranted, PatientHistoryRead
from carenet_kit.outbox import Outgoing, contract_payload


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case HistoryRead.Recorded() as e:
            outcome = "granted" if e.granted else "denied"
            return Outgoing.of(e, contract_payload(PatientHistoryRead, e, outcome=outcome))
        case EmergencyAccess.Granted() as e:
            return Outgoing.of(
                e, contract_payload(EmergencyAccessGranted, e, grant_id=e.originator_id)
            )
    return None
