"""Routing's outbound mapper: which domain events become public, and what they carry.

Directory changes stay inside routing: other services learn a center's social workers from
the route or transfer that names them, at the directory version that decision used.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts import DiagnosisCategory
from carenet_contracts.common import ReferralReason
from carenet_contracts.routing import (
    EscalationCause,
    ManualRoutingOverdue,
    PatientRouted,
    PatientTransferred,
    ReferralCancelled,
    ReferralEscalated,
    ReferralIssued,
    RoutingPending,
)
from carenet_kit.outbox import Outgoing
from carenet_routing.domain import Referral, Route
from carenet_routing.domain.saga import Stage

ESCALATION_CAUSE = {
    Stage.ACCEPT_OVERDUE: EscalationCause.NOT_ACCEPTED_IN_TIME,
    Stage.DECLINED: EscalationCause.DECLINED,
    Stage.UNPLACED: EscalationCause.NO_HOSPITAL,
}
"""The stage a referral escalated at says why, in the contract's words."""


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    return _about_route(domain_event) or _about_referral(domain_event)


def _about_route(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Route.Routed() as e:
            return Outgoing(
                e.patient_id,
                PatientRouted(
                    center_id=e.center_id,
                    region_code=e.region_code,
                    diagnosing_hospital_id=e.diagnosing_hospital_id,
                    category=DiagnosisCategory(e.category),
                    risk_level=e.risk_level,
                    first_visit_due=e.first_visit_due,
                    directory_version=e.directory_version,
                    routed_by=e.routed_by,
                    rule_set_version=e.rule_set_version,
                    social_worker_ids=list(e.social_worker_ids),
                ),
                e.timestamp,
            )
        case Route.HeldForManualRouting() as e:
            return Outgoing(
                e.patient_id,
                RoutingPending(
                    region_code=e.region_code,
                    reason=e.reason,
                    route_by=e.route_by,
                    directory_version=e.directory_version,
                ),
                e.timestamp,
            )
        case Route.ManualRoutingOverdue() as e:
            return Outgoing(
                e.patient_id,
                ManualRoutingOverdue(region_code=e.region_code, route_by=e.route_by),
                e.timestamp,
            )
        case Route.Transferred() as e:
            return Outgoing(
                e.patient_id,
                PatientTransferred(
                    from_center_id=e.from_center_id,
                    to_center_id=e.to_center_id,
                    region_code=e.region_code,
                    moved_on=e.moved_on,
                    first_visit_due=e.first_visit_due,
                    directory_version=e.directory_version,
                    rule_set_version=e.rule_set_version,
                    social_worker_ids=list(e.social_worker_ids),
                ),
                e.timestamp,
            )
    return None


def _about_referral(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Referral.Issued() as e:
            return Outgoing(
                e.patient_id,
                ReferralIssued(
                    referral_id=e.referral_id,
                    case_id=e.case_id,
                    from_center_id=e.from_center_id,
                    hospital_id=e.hospital_id,
                    reason=ReferralReason(e.reason),
                    risk_level=e.risk_level,
                    accept_by=e.accept_by,
                    directory_version=e.directory_version,
                ),
                e.timestamp,
            )
        case Referral.Escalated() as e:
            return Outgoing(
                e.patient_id,
                ReferralEscalated(
                    referral_id=e.referral_id,
                    from_center_id=e.from_center_id,
                    hospital_id=e.hospital_id,
                    cause=ESCALATION_CAUSE[Stage(e.stage)],
                    referral_open=e.referral_open,
                    detail=e.reason,
                ),
                e.timestamp,
            )
        case Referral.Cancelled() as e:
            return Outgoing(
                e.patient_id,
                ReferralCancelled(
                    referral_id=e.referral_id, hospital_id=e.hospital_id, reason=e.reason
                ),
                e.timestamp,
            )
    return None
