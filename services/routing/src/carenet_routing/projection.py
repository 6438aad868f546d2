"""Routing's read model: each patient's route, the manual routing queue, the referrals. SQL
tables in routing's own store, kept by `carenet_kit.read_model_tables`: no route is held in
memory between batches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_kit.fields import copy_of
from carenet_kit.read_model_tables import Changes, SqlReadModel
from carenet_kit.sql_tables import Table
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


ROUTES = Table(
    "board_routes", RouteView, key=lambda r: r.patient_id, columns={"status": lambda r: r.status}
)
REFERRALS = Table(
    "board_referrals",
    ReferralView,
    key=lambda r: Referral.create_id(r.referral_id),  # the aggregate's id
    columns={"center_id": lambda r: r.center_id},
)


class RoutingBoard(SqlReadModel):
    tables = (ROUTES, REFERRALS)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Route.Routed, changes: Changes) -> None:
        changes.add(ROUTES, copy_of(RouteView, e, status="routed"))

    @apply.register
    def _(self, e: Route.HeldForManualRouting, changes: Changes) -> None:
        before = changes.find(ROUTES, e.patient_id)
        pending = copy_of(
            RouteView,
            e,
            status="pending",
            center_id=before.center_id if before else None,
            first_visit_due=before.first_visit_due if before else None,
            pending_reason=e.reason,
        )
        changes.add(ROUTES, pending)

    @apply.register
    def _(self, e: Route.ManualRoutingOverdue, changes: Changes) -> None:
        changes.add(ROUTES, replace(changes.change(ROUTES, e.patient_id), overdue=True))

    @apply.register
    def _(self, e: Route.ResidenceChanged, changes: Changes) -> None:
        route = changes.change(ROUTES, e.patient_id)
        changes.add(ROUTES, replace(route, region_code=e.region_code))

    @apply.register
    def _(self, e: Route.Transferred, changes: Changes) -> None:
        changes.add(ROUTES, copy_of(RouteView, e, status="routed", center_id=e.to_center_id))

    @apply.register
    def _(self, e: Route.KeptAtCenter, changes: Changes) -> None:
        before = changes.change(ROUTES, e.patient_id)
        changes.add(
            ROUTES,
            replace(
                before,
                status="routed",
                pending_reason=None,
                route_by=None,
                overdue=False,
                directory_version=e.directory_version,
                routed_by=e.routed_by,
            ),
        )

    @apply.register
    def _(self, e: Referral.Requested, changes: Changes) -> None:
        changes.add(REFERRALS, copy_of(ReferralView, e, stage=Stage.REQUESTED.value))

    @apply.register
    def _(self, e: Referral.Issued, changes: Changes) -> None:
        changes.add(
            REFERRALS,
            replace(
                changes.change(REFERRALS, e.originator_id),
                stage=e.stage,
                hospital_id=e.hospital_id,
                chosen_because=e.chosen_because,
                accept_by=e.accept_by,
                directory_version=e.directory_version,
            ),
        )

    @apply.register
    def _(self, e: Referral.Unplaced, changes: Changes) -> None:
        changes.add(
            REFERRALS,
            replace(
                changes.change(REFERRALS, e.originator_id),
                stage=e.stage,
                chosen_because=e.why,
                directory_version=e.directory_version,
            ),
        )

    @apply.register
    def _(self, e: Referral.HospitalAnswered, changes: Changes) -> None:
        self._stage(changes, e.originator_id, e.stage)

    @apply.register
    def _(self, e: Referral.Withdrawn, changes: Changes) -> None:
        self._stage(changes, e.originator_id, e.stage)

    @apply.register
    def _(self, e: Referral.AcceptDeadlinePassed, changes: Changes) -> None:
        self._stage(changes, e.originator_id, e.stage)

    @apply.register
    def _(self, e: Referral.Escalated, changes: Changes) -> None:
        view = changes.change(REFERRALS, e.originator_id)
        changes.add(REFERRALS, replace(view, escalations=(*view.escalations, e.reason)))

    @apply.register
    def _(self, e: Referral.Cancelled, changes: Changes) -> None:
        view = changes.change(REFERRALS, e.originator_id)
        changes.add(REFERRALS, replace(view, cancelled_because=e.reason))

    @staticmethod
    def _stage(changes: Changes, referral: UUID, stage: str) -> None:
        changes.add(REFERRALS, replace(changes.change(REFERRALS, referral), stage=stage))

    def route_of(self, patient_id: UUID) -> RouteView | None:
        return self.get(ROUTES, patient_id)

    def queue(self) -> list[RouteView]:
        """Patients waiting for an operator, earliest deadline first."""
        pending = self.where(ROUTES, status="pending")
        return sorted(pending, key=lambda r: (r.route_by or date.max, str(r.patient_id)))

    def referral(self, referral_id: UUID) -> ReferralView | None:
        return self.get(REFERRALS, Referral.create_id(referral_id))

    def referrals_of(self, center_id: str) -> list[ReferralView]:
        """The center's referrals, in the order they were requested."""
        return self.where(REFERRALS, center_id=center_id)
