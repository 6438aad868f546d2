"""What routing publishes: where each patient belongs (producer `routing`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field

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


class ReferralEscalatedV1(Payload):
    """Nobody accepted the referral in time, or the hospital declined: people must act."""

    # Version 1, still on the topics; `parse_message` reads it as version 2 (see there).
    model_config = ConfigDict(frozen=True, extra="ignore", title="ReferralEscalated")

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


class EscalationCause(StrEnum):
    """Why people must act on a referral; the cause decides whether it is still open."""

    NOT_ACCEPTED_IN_TIME = "not_accepted_in_time"
    """Still open: a late acceptance is welcome."""
    DECLINED = "declined"
    """Over: the hospital said no."""
    NO_HOSPITAL = "no_hospital"
    """Over: no certified hospital could be chosen."""


_V1_REASON_PREFIXES = {
    "not accepted": EscalationCause.NOT_ACCEPTED_IN_TIME,
    "declined": EscalationCause.DECLINED,
    "no hospital": EscalationCause.NO_HOSPITAL,
}


class ReferralEscalated(Payload):
    """Nobody accepted the referral in time, the hospital declined, or none could be chosen.

    Version 2. Version 1 said why only in prose (`reason`), so a consumer had to parse words
    to act, and its `referral_open` arrived later with a default of true: every escalation
    published before it, including the hospitals' refusals, read as "still open". Version 2
    states the `cause` as a code and `referral_open` without a default; the prose stays in
    `detail`, for people.
    """

    event_type: ClassVar[str] = "ReferralEscalated"
    schema_version: ClassVar[int] = 2
    producer: ClassVar[Producer] = "routing"
    previous: ClassVar[type[Payload] | None] = ReferralEscalatedV1

    referral_id: UUID
    from_center_id: OrganisationId
    hospital_id: OrganisationId
    cause: EscalationCause
    referral_open: bool = Field(
        description="False when the referral is over without an admission: the community "
        "follows up jointly and may ask for another referral."
    )
    detail: str = Field(description="What happened, in words, for the people who must act.")

    @classmethod
    def upcast(cls, old: Payload) -> ReferralEscalated:
        """Version 1 as version 2: the cause from the words routing wrote it with.

        Where version 1 had no `referral_open` yet, it follows from the cause.
        """
        assert isinstance(old, ReferralEscalatedV1)
        text = old.reason.lower()
        cause = next((c for p, c in _V1_REASON_PREFIXES.items() if text.startswith(p)), None)
        if cause is None:
            raise ValueError(f"ReferralEscalated v1 with an unknown reason: {old.reason!r}")
        explicit = "referral_open" in old.model_fields_set
        return cls(
            referral_id=old.referral_id,
            from_center_id=old.from_center_id,
            hospital_id=old.hospital_id,
            cause=cause,
            referral_open=(
                old.referral_open if explicit else cause is EscalationCause.NOT_ACCEPTED_IN_TIME
            ),
            detail=old.reason,
        )


class ReferralCancelled(Payload):
    """The referral saga was compensated: the hospital should no longer expect the patient."""

    event_type: ClassVar[str] = "ReferralCancelled"
    producer: ClassVar[Producer] = "routing"

    referral_id: UUID
    hospital_id: OrganisationId
    reason: str
