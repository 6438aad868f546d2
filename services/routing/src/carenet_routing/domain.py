"""The network tier: the catchment directory and each patient's route to a community center."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_routing import rules

DIRECTORY_ID = uuid5(NAMESPACE_URL, "urn:carenet:routing:directory")
ROUTE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:routing:route")


@dataclass(frozen=True)
class Center:
    id: str
    name: str
    catchment: tuple[str, ...]
    """Subdistrict (9-digit) or whole-district (6-digit) region codes."""

    def covers(self, region_code: str) -> bool:
        return any(region_code.startswith(area) for area in self.catchment)


class Directory(Aggregate):
    """Community health centers and their catchments; its version is recorded by every route."""

    @staticmethod
    def create_id() -> UUID:
        return DIRECTORY_ID

    @event("Loaded")
    def __init__(self, centers: list[dict[str, Any]]) -> None:
        self.centers = {c["id"]: Center(c["id"], c["name"], tuple(c["catchment"])) for c in centers}

    def center(self, center_id: str) -> Center | None:
        return self.centers.get(center_id)

    def centers_covering(self, region_code: str) -> list[Center]:
        return [c for c in self.centers.values() if c.covers(region_code)]


class Route(Aggregate):
    """Where one patient is cared for in the community, and how that was decided."""

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(ROUTE_NAMESPACE, str(patient_id))

    @event("Requested")
    def __init__(
        self,
        patient_id: UUID,
        diagnosing_hospital_id: str,
        category: str,
        risk_level: int,
        region_code: str,
    ) -> None:
        self.patient_id = patient_id
        self.diagnosing_hospital_id = diagnosing_hospital_id
        self.category = category
        self.risk_level = risk_level
        self.region_code = region_code
        self.center_id: str | None = None
        self.pending_reason: str | None = None

    class Routed(Aggregate.Event):
        """The patient goes to a center; the event keeps what the center needs to know."""

        patient_id: UUID
        center_id: str
        region_code: str
        diagnosing_hospital_id: str
        category: str
        risk_level: int
        routed_on: date
        first_visit_due: date
        directory_version: int
        routed_by: str
        rule_set_version: str

    @event(Routed)
    def route_to(
        self,
        patient_id: UUID,
        center_id: str,
        region_code: str,
        diagnosing_hospital_id: str,
        category: str,
        risk_level: int,
        routed_on: date,
        first_visit_due: date,
        directory_version: int,
        routed_by: str,
        rule_set_version: str,
    ) -> None:
        self.center_id = center_id
        self.pending_reason = None

    class HeldForManualRouting(Aggregate.Event):
        patient_id: UUID
        region_code: str
        reason: str
        route_by: date
        directory_version: int

    @event(HeldForManualRouting)
    def hold(
        self,
        patient_id: UUID,
        region_code: str,
        reason: str,
        route_by: date,
        directory_version: int,
    ) -> None:
        self.pending_reason = reason

    @property
    def is_routed(self) -> bool:
        return self.center_id is not None

    def send_to(self, center: Center, directory_version: int, today: date, routed_by: str) -> None:
        self.route_to(
            patient_id=self.patient_id,
            center_id=center.id,
            region_code=self.region_code,
            diagnosing_hospital_id=self.diagnosing_hospital_id,
            category=self.category,
            risk_level=self.risk_level,
            routed_on=today,
            first_visit_due=rules.first_visit_due(today),
            directory_version=directory_version,
            routed_by=routed_by,
            rule_set_version=rules.RULE_SET_VERSION,
        )

    def route_by_catchment(self, directory: Directory, today: date) -> None:
        """To the one center whose catchment holds the residence; otherwise to the manual queue."""
        centers = directory.centers_covering(self.region_code)
        if len(centers) == 1:
            self.send_to(centers[0], directory.version, today, routed_by="catchment")
            return
        reason = (
            f"no catchment holds region {self.region_code}"
            if not centers
            else f"region {self.region_code} is in the catchments of "
            + ", ".join(sorted(c.id for c in centers))
        )
        self.hold(
            patient_id=self.patient_id,
            region_code=self.region_code,
            reason=reason,
            route_by=rules.manual_routing_due(today),
            directory_version=directory.version,
        )
