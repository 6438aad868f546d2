"""Routing's read model: each patient's route and the manual routing queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_routing.domain import Route


@dataclass
class RouteView:
    patient_id: UUID
    status: str
    center_id: str | None = None
    first_visit_due: date | None = None
    pending_reason: str | None = None
    route_by: date | None = None
    directory_version: int | None = None
    routed_by: str | None = None


@dataclass
class RoutingBoard:
    routes: dict[UUID, RouteView] = field(default_factory=dict)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Route.Routed) -> None:
        self.routes[e.patient_id] = RouteView(
            patient_id=e.patient_id,
            status="routed",
            center_id=e.center_id,
            first_visit_due=e.first_visit_due,
            directory_version=e.directory_version,
            routed_by=e.routed_by,
        )

    @apply.register
    def _(self, e: Route.HeldForManualRouting) -> None:
        self.routes[e.patient_id] = RouteView(
            patient_id=e.patient_id,
            status="pending",
            pending_reason=e.reason,
            route_by=e.route_by,
            directory_version=e.directory_version,
        )

    def route_of(self, patient_id: UUID) -> RouteView | None:
        return self.routes.get(patient_id)

    def queue(self) -> list[RouteView]:
        pending = (r for r in self.routes.values() if r.status == "pending")
        return sorted(pending, key=lambda r: (r.route_by or date.max, str(r.patient_id)))
