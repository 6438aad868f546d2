"""Routing's HTTP API: routes, the manual routing queue, the directory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_kit.http import CorrelationId, from_app_state
from carenet_kit.outbox import Cause
from carenet_routing.application import RoutingApplication
from carenet_routing.projection import RouteView, RoutingBoard

router = APIRouter(prefix="/v1", tags=["routing"])

OrganisationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class RouteByHand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    center_id: OrganisationId
    operator_id: OrganisationId


class RouteOut(BaseModel):
    patient_id: UUID
    status: str = Field(description="'routed' or 'pending' (in the manual routing queue)")
    center_id: str | None
    first_visit_due: date | None
    pending_reason: str | None
    route_by: date | None
    directory_version: int | None
    routed_by: str | None


class CenterOut(BaseModel):
    id: str
    name: str
    catchment: list[str]


Routing = Annotated[RoutingApplication, from_app_state("application")]
Board = Annotated[RoutingBoard, from_app_state("projection")]


def _out(view: RouteView) -> RouteOut:
    return RouteOut(**view.__dict__)


@router.get("/routes/{patient_id}", response_model=RouteOut)
async def read_route(patient_id: UUID, board: Board) -> RouteOut:
    view = board.route_of(patient_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no route for this patient")
    return _out(view)


@router.get("/routing-queue", response_model=list[RouteOut])
async def routing_queue(board: Board) -> list[RouteOut]:
    """Patients no catchment could place, oldest deadline first."""
    return [_out(view) for view in board.queue()]


@router.post("/routes/{patient_id}/manual", status_code=status.HTTP_202_ACCEPTED)
def route_by_hand(
    patient_id: UUID, body: RouteByHand, routing: Routing, corr: CorrelationId
) -> dict[str, str]:
    today = datetime.now(UTC).date()
    routing.route_by_hand(patient_id, body.center_id, body.operator_id, today, Cause.request(corr))
    return {"status": "routed", "center_id": body.center_id}


@router.get("/directory/centers", response_model=list[CenterOut])
def directory_centers(routing: Routing) -> list[CenterOut]:
    return [
        CenterOut(id=c.id, name=c.name, catchment=list(c.catchment))
        for c in routing.directory().centers.values()
    ]
