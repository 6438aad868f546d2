"""Routing's service layer: route diagnosed patients to centers by catchment or by hand."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from carenet_contracts import Envelope
from carenet_contracts.intake import DiagnosisRecorded
from carenet_kit.application import ServiceApplication
from carenet_kit.inbound import CommandConflict, CommandRejected
from carenet_kit.outbox import Cause
from carenet_routing.domain import DIRECTORY_ID, Directory, Route


class RoutingApplication(ServiceApplication):
    producer: ClassVar = "routing"

    def load_directory(self, centers: list[dict[str, Any]]) -> None:
        """Seed the directory from reference data the first time the service runs."""
        if DIRECTORY_ID not in self.repository:
            self.commit(Directory(centers), cause=Cause.request())

    def directory(self) -> Directory:
        directory: Directory = self.repository.get(DIRECTORY_ID)
        return directory

    def route_diagnosed_patient(self, diagnosis: Envelope[DiagnosisRecorded], cause: Cause) -> None:
        route_id = Route.create_id(diagnosis.patient_id)
        if route_id in self.repository:
            return  # a later diagnosis does not move a patient who already has a route
        data = diagnosis.data
        route = Route(
            patient_id=diagnosis.patient_id,
            diagnosing_hospital_id=data.hospital_id,
            category=data.category.value,
            risk_level=data.risk_level,
            region_code=data.region_code,
        )
        route.route_by_catchment(self.directory(), today=diagnosis.recorded_at.date())
        self.commit(route, cause=cause)

    def route_by_hand(
        self, patient_id: UUID, center_id: str, operator_id: str, today: date, cause: Cause
    ) -> None:
        try:
            route: Route = self.repository.get(Route.create_id(patient_id))
        except AggregateNotFoundError:
            raise CommandRejected("no routing request for this patient") from None
        if route.is_routed:
            raise CommandConflict(f"the patient is already routed to {route.center_id}")
        directory = self.directory()
        center = directory.center(center_id)
        if center is None:
            raise CommandRejected(f"unknown community health center {center_id}")
        route.send_to(center, directory.version, today, routed_by=operator_id)
        self.commit(route, cause=cause)
