"""Routing's outbound mapper: routing decisions become `PatientRouted` or `RoutingPending`."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts import DiagnosisCategory
from carenet_contracts.routing import PatientRouted, RoutingPending
from carenet_kit.outbox import Outgoing
from carenet_routing.domain import Route


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Route.Routed() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=PatientRouted(
                    center_id=e.center_id,
                    region_code=e.region_code,
                    diagnosing_hospital_id=e.diagnosing_hospital_id,
                    category=DiagnosisCategory(e.category),
                    risk_level=e.risk_level,
                    first_visit_due=e.first_visit_due,
                    directory_version=e.directory_version,
                    routed_by=e.routed_by,
                    rule_set_version=e.rule_set_version,
                ),
            )
        case Route.HeldForManualRouting() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=RoutingPending(
                    region_code=e.region_code,
                    reason=e.reason,
                    route_by=e.route_by,
                    directory_version=e.directory_version,
                ),
            )
    return None
