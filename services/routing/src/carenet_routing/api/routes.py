"""Routing's routes API: routes and transfers, the manual routing queue, referrals."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Access, Control, Role, for_roles, guarded, require_organisation
from carenet_kit.auth import CurrentActor
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause
from carenet_routing.api.deps import (
    Board,
    Command,
    OrganisationId,
    RegionCode,
    Routing,
)
from carenet_routing.projection import ReferralView, RouteView

router = APIRouter(prefix="/v1", tags=["routing"])

STAFF = (Role.SOCIAL_WORKER, Role.COMMUNITY_DOCTOR)


# -- routes, transfers and the manual routing queue ----------------------------------------


class RouteByHand(Command):
    center_id: OrganisationId


class ResidenceChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region_code: RegionCode
    moved_on: date


class RouteOut(BaseModel):
    patient_id: UUID
    status: str = Field(description="'routed', or 'pending' in the manual routing queue.")
    region_code: str
    center_id: str | None = Field(description="Current center; kept while a move is pending.")
    first_visit_due: date | None
    pending_reason: str | None
    route_by: date | None
    overdue: bool = Field(description="The manual routing deadline passed without a route.")
    directory_version: int | None
    routed_by: str | None


class Decision(BaseModel):
    outcome: str = Field(
        description="'routed', 'transferred', 'kept', 'pending', 'residence_recorded', "
        "'earlier_residence_recorded' (a move dated before the current residence's) or "
        "'unchanged'."
    )
    center_id: str | None


def _route_out(view: RouteView) -> RouteOut:
    return RouteOut(**view.__dict__)


@router.get("/routes/{patient_id}", **guarded(Access.READ_ROUTE))
async def read_route(patient_id: UUID, board: Board) -> RouteOut:
    view = board.route_of(patient_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no route for this patient")
    return _route_out(view)


@router.get("/routing-queue", **for_roles(Role.OPERATOR))
def routing_queue(
    board: Board, actor: CurrentActor, control: Control, request: Request
) -> list[RouteOut]:
    """Patients waiting for an operator, earliest deadline first; `overdue` when it passed."""
    queue = board.queue()
    shown = control.visible(actor, (v.patient_id for v in queue), request, Access.READ_ROUTE)
    return [_route_out(view) for view in queue if view.patient_id in shown]


@router.post(
    "/routes/{patient_id}/manual", status_code=status.HTTP_202_ACCEPTED, **guarded(Access.ROUTE)
)
def route_by_hand(
    patient_id: UUID, body: RouteByHand, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Decision:
    """Route a queued patient; a patient held after a move is transferred (or kept)."""
    body.by(actor)
    outcome = routing.route_by_hand(
        patient_id, body.center_id, body.operator_id, Cause.request(corr)
    )
    return Decision(outcome=outcome, center_id=body.center_id)


@router.post(
    "/routes/{patient_id}/residence", status_code=status.HTTP_202_ACCEPTED, **guarded(Access.ROUTE)
)
def change_residence(
    patient_id: UUID, body: ResidenceChange, routing: Routing, corr: CorrelationId
) -> Decision:
    """The patient moved: transfer to the new center, or hold for an operator if none fits.

    Moves count in the order of `moved_on`: one dated before the current residence's move is
    history only; a date after today (beyond a 5-minute clock tolerance) is a 422."""
    moved = routing.change_residence(
        patient_id, body.region_code, body.moved_on, Cause.request(corr)
    )
    return Decision(outcome=moved.outcome, center_id=moved.center_id)


# -- referrals -----------------------------------------------------------------------------


class ReferralOut(BaseModel):
    referral_id: UUID
    patient_id: UUID
    case_id: UUID
    center_id: str
    reason: str
    risk_level: int
    stage: str
    hospital_id: str | None
    chosen_because: str | None
    accept_by: datetime | None
    directory_version: int | None
    escalations: list[str]
    cancelled_because: str | None


def _referral_out(view: ReferralView) -> ReferralOut:
    return ReferralOut(**{**view.__dict__, "escalations": list(view.escalations)})


@router.get("/referrals/{referral_id}", **guarded(Access.READ_CARE, target="referral"))
async def read_referral(referral_id: UUID, board: Board) -> ReferralOut:
    view = board.referral(referral_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown referral")
    return _referral_out(view)


@router.get("/referrals", **for_roles(*STAFF))
def referrals_of_center(
    center_id: OrganisationId,
    board: Board,
    actor: CurrentActor,
    control: Control,
    request: Request,
) -> list[ReferralOut]:
    """The caller's center's referrals, in the order they were requested."""
    require_organisation(actor, center_id)
    referrals = board.referrals_of(center_id)
    shown = control.visible(actor, (view.patient_id for view in referrals), request)
    return [_referral_out(view) for view in referrals if view.patient_id in shown]
