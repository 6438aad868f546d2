"""Routing's read model: each patient's route, the manual routing queue, the referrals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_routing.domain import Referral, Route, Stage


@dataclass(frozen=True)
class RouteView:
    patient_id: UUID
    status: str
    """'routed', or 'pending' in the manual routing queue (a moved patient keeps its center)."""
    region_code: str
    center_id: str | None = None
    first_visit_due: date | None = None
    pending_reason: str | None = None
    route_by: date | None = None
    overdue: bool = False
    directory_version: int | None = None
    routed_by: str | None = None


@dataclass(frozen=True)
class ReferralView:
    referral_id: UUID
    patient_id: UUID
    case_id: UUID
    center_id: str
    reason: str
    risk_level: int
    stage: str
    hospital_id: str | None = None
    chosen_because: str | None = None
    accept_by: datetime | None = None
    directory_version: int | None = None
    escalations: tuple[str, ...] = ()
    cancelled_because: str | None = None


@dataclass
class RoutingBoard:
    routes: dict[UUID, RouteView] = field(default_factory=dict)
    referrals: dict[UUID, ReferralView] = field(default_factory=dict)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Route.Routed) -> None:
        self.routes[e.patient_id] = RouteView(
            patient_id=e.patient_id,
            status="routed",
            region_code=e.region_code,
            center_id=e.center_id,
            first_visit_due=e.first_visit_due,
            directory_version=e.directory_version,
            routed_by=e.routed_by,
        )

    @apply.register
    def _(self, e: Route.HeldForManualRouting) -> None:
        before = self.routes.get(e.patient_id)
        self.routes[e.patient_id] = RouteView(
            patient_id=e.patient_id,
            status="pending",
            region_code=e.region_code,
            center_id=before.center_id if before else None,
            first_visit_due=before.first_visit_due if before else None,
            pending_reason=e.reason,
            route_by=e.route_by,
            directory_version=e.directory_version,
        )

    @apply.register
    def _(self, e: Route.ManualRoutingOverdue) -> None:
        self.routes[e.patient_id] = replace(self.routes[e.patient_id], overdue=True)

    @apply.register
    def _(self, e: Route.ResidenceChanged) -> None:
        self.routes[e.patient_id] = replace(self.routes[e.patient_id], region_code=e.region_code)

    @apply.register
    def _(self, e: Route.Transferred) -> None:
        self.routes[e.patient_id] = RouteView(
            patient_id=e.patient_id,
            status="routed",
            region_code=e.region_code,
            center_id=e.to_center_id,
            first_visit_due=e.first_visit_due,
            directory_version=e.directory_version,
            routed_by=e.routed_by,
        )

    @apply.register
    def _(self, e: Route.KeptAtCenter) -> None:
        before = self.routes[e.patient_id]
        self.routes[e.patient_id] = replace(
            before,
            status="routed",
            pending_reason=None,
            route_by=None,
            overdue=False,
            directory_version=e.directory_version,
            routed_by=e.routed_by,
        )

    @apply.register
    def _(self, e: Referral.Requested) -> None:
        self.referrals[e.originator_id] = ReferralView(
            referral_id=e.referral_id,
            patient_id=e.patient_id,
            case_id=e.case_id,
            center_id=e.center_id,
            reason=e.reason,
            risk_level=e.risk_level,
            stage=Stage.REQUESTED.value,
        )

    @apply.register
    def _(self, e: Referral.Issued) -> None:
        self.referrals[e.originator_id] = replace(
            self.referrals[e.originator_id],
            stage=e.stage,
            hospital_id=e.hospital_id,
            chosen_because=e.chosen_because,
            accept_by=e.accept_by,
            directory_version=e.directory_version,
        )

    @apply.register
    def _(self, e: Referral.Unplaced) -> None:
        self.referrals[e.originator_id] = replace(
            self.referrals[e.originator_id],
            stage=e.stage,
            chosen_because=e.why,
            directory_version=e.directory_version,
        )

    @apply.register
    def _(self, e: Referral.HospitalAnswered) -> None:
        self._stage(e.originator_id, e.stage)

    @apply.register
    def _(self, e: Referral.Withdrawn) -> None:
        self._stage(e.originator_id, e.stage)

    @apply.register
    def _(self, e: Referral.AcceptDeadlinePassed) -> None:
        self._stage(e.originator_id, e.stage)

    @apply.register
    def _(self, e: Referral.Escalated) -> None:
        view = self.referrals[e.originator_id]
        self.referrals[e.originator_id] = replace(view, escalations=(*view.escalations, e.reason))

    @apply.register
    def _(self, e: Referral.Cancelled) -> None:
        view = self.referrals[e.originator_id]
        self.referrals[e.originator_id] = replace(view, cancelled_because=e.reason)

    def _stage(self, referral: UUID, stage: str) -> None:
        self.referrals[referral] = replace(self.referrals[referral], stage=stage)

    def route_of(self, patient_id: UUID) -> RouteView | None:
        return self.routes.get(patient_id)

    def queue(self) -> list[RouteView]:
        """Patients waiting for an operator, earliest deadline first."""
        pending = (r for r in self.routes.values() if r.status == "pending")
        return sorted(pending, key=lambda r: (r.route_by or date.max, str(r.patient_id)))

    def referral(self, referral_id: UUID) -> ReferralView | None:
        return self.referrals.get(Referral.create_id(referral_id))

    def referrals_of(self, center_id: str) -> list[ReferralView]:
        """The center's referrals, in the order they were requested."""
        return [r for r in self.referrals.values() if r.center_id == center_id]
