"""Routing's outbound mapper: which domain events become public, and what they carry.

Directory changes stay inside routing: other services learn a center's social workers from
the route or transfer that names them, at the directory version that decision used.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts import Payload
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
from carenet_kit.outbox import Outgoing, contract_payload
from carenet_routing.domain import Referral, Route
from carenet_routing.domain.saga import Stage

ESCALATION_CAUSE = {
    Stage.ACCEPT_OVERDUE: EscalationCause.NOT_ACCEPTED_IN_TIME,
    Stage.DECLINED: EscalationCause.DECLINED,
    Stage.UNPLACED: EscalationCause.NO_HOSPITAL,
}
"""The stage a referral escalated at says why, in the contract's words."""


PUBLISHED_AS: dict[type[DomainEventProtocol[UUID]], type[Payload]] = {
    Route.Routed: PatientRouted,
    Route.HeldForManualRouting: RoutingPending,
    Route.ManualRoutingOverdue: ManualRoutingOverdue,
    Route.Transferred: PatientTransferred,
    Referral.Issued: ReferralIssued,
    Referral.Cancelled: ReferralCancelled,
}
"""The events published field for field as their contract (`carenet_kit.outbox`)."""


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    if isinstance(domain_event, Referral.Escalated):
        escalated = contract_payload(
            ReferralEscalated,
            domain_event,
            cause=ESCALATION_CAUSE[Stage(domain_event.stage)],
            detail=domain_event.reason,
        )
        return Outgoing.of(domain_event, escalated)
    contract = PUBLISHED_AS.get(type(domain_event))
    if contract is None:
        return None
    return Outgoing.of(domain_event, contract_payload(contract, domain_event))
