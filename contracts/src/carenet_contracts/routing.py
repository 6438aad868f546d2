"""What routing publishes: where each patient belongs (producer `routing`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from carenet_contracts.common import (
    DiagnosisCategory,
    OrganisationId,
    ReferralReason,
    RegionCode,
    RiskLevel,
)
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
    social_worker_ids: list[OrganisationId] = Field(
        default_factory=list,
        description="The center's social workers at this directory version (case-manager pool).",
    )


class RoutingPending(Payload):
    """No catchment holds the residence: the patient waits in the manual routing queue."""

    event_type: ClassVar[str] = "RoutingPending"
    producer: ClassVar[Producer] = "routing"

    region_code: RegionCode
    reason: str
    route_by: date = Field(description="Deadline for an operator to route by hand.")
    directory_version: int = Field(ge=1)


class ManualRoutingOverdue(Payload):
    """A patient waited in the manual routing queue past its deadline."""

    event_type: ClassVar[str] = "ManualRoutingOverdue"
    producer: ClassVar[Producer] = "routing"

    region_code: RegionCode
    route_by: date


class PatientTransferred(Payload):
    """The patient moved: the center of the new residence takes over from the old one."""

    event_type: ClassVar[str] = "PatientTransferred"
    producer: ClassVar[Producer] = "routing"

    from_center_id: OrganisationId
    to_center_id: OrganisationId
    region_code: RegionCode
    moved_on: date
    first_visit_due: date
    directory_version: int = Field(ge=1)
    rule_set_version: str
    social_worker_ids: list[OrganisationId] = Field(
        default_factory=list,
        description="The center's social workers at this directory version (case-manager pool).",
    )


class ReferralIssued(Payload):
    """Routing chose the hospital for a community referral and sent it there."""

    event_type: ClassVar[str] = "ReferralIssued"
    producer: ClassVar[Producer] = "routing"

    referral_id: UUID
    case_id: UUID
    from_center_id: OrganisationId
    hospital_id: OrganisationId
    reason: ReferralReason
    risk_level: RiskLevel
    accept_by: datetime = Field(description="Unaccepted by then, the referral escalates.")
    directory_version: int = Field(ge=1)


class ReferralEscalated(Payload):
    """Nobody accepted the referral in time, or the hospital declined: people must act."""

    event_type: ClassVar[str] = "ReferralEscalated"
    producer: ClassVar[Producer] = "routing"

    referral_id: UUID
    from_center_id: OrganisationId
    hospital_id: OrganisationId
    reason: str
    referral_open: bool = Field(
        default=True,
        description="False when the referral is over without an admission (the hospital "
        "declined, or no hospital could be chosen): the community follows up jointly and may "
        "ask for another referral.",
    )


class ReferralCancelled(Payload):
    """The referral saga was compensated: the hospital should no longer expect the patient."""

    event_type: ClassVar[str] = "ReferralCancelled"
    producer: ClassVar[Producer] = "routing"

    referral_id: UUID
    hospital_id: OrganisationId
    reason: str
