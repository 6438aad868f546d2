"""What routing publishes: where each patient belongs (producer `routing`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from carenet_contracts.common import DiagnosisCategory, OrganisationId, RegionCode, RiskLevel
from carenet_contracts.envelope import Payload, Producer


class PatientRouted(Payload):
    """The patient now belongs to the community center whose catchment holds the residence."""

    event_type: ClassVar[str] = "PatientRouted"
    producer: ClassVar[Producer] = "routing"

    center_id: OrganisationId
    region_code: RegionCode
    diagnosing_hospital_id: OrganisationId
    category: DiagnosisCategory
    risk_level: RiskLevel
    first_visit_due: date
    directory_version: int = Field(ge=1, description="Version of the catchment directory used.")
    routed_by: str = Field(description="'catchment' or the operator who routed by hand.")
    rule_set_version: str


class RoutingPending(Payload):
    """No catchment holds the residence: the patient waits in the manual routing queue."""

    event_type: ClassVar[str] = "RoutingPending"
    producer: ClassVar[Producer] = "routing"

    region_code: RegionCode
    reason: str
    route_by: date = Field(description="Deadline for an operator to route by hand.")
    directory_version: int = Field(ge=1)
