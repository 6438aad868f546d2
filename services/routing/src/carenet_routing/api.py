"""Routing's HTTP API: routes and transfers, the manual routing queue, referrals, the directory."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from carenet_access import Access, Control, Role, for_roles, guarded, require_organisation
from carenet_kit.auth import Actor, CurrentActor
from carenet_kit.http import CorrelationId, from_app_state
from carenet_kit.outbox import Cause
from carenet_routing.application import RoutingApplication
from carenet_routing.domain import Center, Hospital, StaffRole, Unknown
from carenet_routing.projection import ReferralView, RouteView, RoutingBoard

OrganisationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}(\d{3})?$", examples=["440305001"])]
DistrictCode = Annotated[str, Field(pattern=r"^\d{6}$", examples=["440305"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class UnknownIsNotFound(APIRoute):
    """A command naming an unknown center, hospital, staff member or patient is a 404."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Unknown as error:
                return JSONResponse({"detail": str(error)}, status_code=404)

        return handle


router = APIRouter(prefix="/v1", tags=["routing"], route_class=UnknownIsNotFound)
directory_router = APIRouter(
    prefix="/v1/directory", tags=["directory"], route_class=UnknownIsNotFound
)

Routing = Annotated[RoutingApplication, from_app_state("application")]
Board = Annotated[RoutingBoard, from_app_state("projection")]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    operator_id: OrganisationId = Field(
        description="Who made the change (kept for audit): the caller, as the token says."
    )

    def by(self, actor: Actor) -> Command:
        """This command, if the caller is the operator it names (403 otherwise)."""
        if self.operator_id != actor.subject:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "operator_id is not the caller")
        return self


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


@router.get("/routes/{patient_id}", response_model=RouteOut, **guarded(Access.READ_ROUTE))
async def read_route(patient_id: UUID, board: Board) -> RouteOut:
    view = board.route_of(patient_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no route for this patient")
    return _route_out(view)


@router.get("/routing-queue", response_model=list[RouteOut], **for_roles(Role.OPERATOR))
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


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralOut,
    **guarded(Access.READ_CARE, target="referral"),
)
async def read_referral(referral_id: UUID, board: Board) -> ReferralOut:
    view = board.referral(referral_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown referral")
    return _referral_out(view)


@router.get("/referrals", response_model=list[ReferralOut], **for_roles(*STAFF))
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


# -- the directory -------------------------------------------------------------------------


class HospitalIn(Command):
    hospital_id: OrganisationId
    name: Name
    district: DistrictCode
    certified: StrictBool


class Certification(Command):
    certified: StrictBool
    reason: Reason


class CenterIn(Command):
    center_id: OrganisationId
    name: Name
    catchment: list[RegionCode] = Field(default_factory=list, max_length=200)


class CatchmentArea(Command):
    region_code: RegionCode


class Removal(Command):
    reason: Reason


class Handover(Command):
    region_code: RegionCode
    from_center_id: OrganisationId
    to_center_id: OrganisationId
    reason: Reason


class StaffIn(Command):
    staff_id: OrganisationId
    role: StaffRole


class Changed(BaseModel):
    directory_version: int


class HospitalOut(BaseModel):
    id: str
    name: str
    district: str
    certified: bool


class StaffOut(BaseModel):
    staff_id: str
    role: StaffRole


class CenterOut(BaseModel):
    id: str
    name: str
    catchment: list[str]
    staff: list[StaffOut]


class DirectoryOut(BaseModel):
    version: int
    hospitals: list[HospitalOut]
    centers: list[CenterOut]


class CenterAtVersion(CenterOut):
    directory_version: int


class HospitalAtVersion(HospitalOut):
    directory_version: int


def _hospital(h: Hospital) -> HospitalOut:
    return HospitalOut(id=h.id, name=h.name, district=h.district, certified=h.certified)


def _center(c: Center) -> CenterOut:
    staff = [StaffOut(staff_id=s, role=role) for s, role in c.staff.items()]
    return CenterOut(id=c.id, name=c.name, catchment=list(c.catchment), staff=staff)


@directory_router.get("", response_model=DirectoryOut, **for_roles(*Role))
def read_directory(routing: Routing) -> DirectoryOut:
    """The whole directory at its current version (the version routes and referrals record)."""
    d = routing.directory()
    return DirectoryOut(
        version=d.version,
        hospitals=[_hospital(h) for h in d.hospitals],
        centers=[_center(c) for c in d.centers],
    )


@directory_router.get("/centers", response_model=list[CenterOut], **for_roles(*Role))
def directory_centers(routing: Routing) -> list[CenterOut]:
    return [_center(c) for c in routing.directory().centers]


@directory_router.get("/centers/{center_id}", response_model=CenterAtVersion, **for_roles(*Role))
def directory_center(center_id: str, routing: Routing) -> CenterAtVersion:
    d = routing.directory()
    center = next((c for c in d.centers if c.id == center_id), None)
    if center is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown community health center")
    return CenterAtVersion(**_center(center).model_dump(), directory_version=d.version)


@directory_router.get(
    "/hospitals/{hospital_id}", response_model=HospitalAtVersion, **for_roles(*Role)
)
def directory_hospital(hospital_id: str, routing: Routing) -> HospitalAtVersion:
    d = routing.directory()
    hospital = next((h for h in d.hospitals if h.id == hospital_id), None)
    if hospital is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown hospital")
    return HospitalAtVersion(**_hospital(hospital).model_dump(), directory_version=d.version)


@directory_router.post(
    "/hospitals", status_code=status.HTTP_201_CREATED, **for_roles(Role.OPERATOR)
)
def register_hospital(
    body: HospitalIn, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    version = routing.register_hospital(
        body.hospital_id, body.name, body.district, body.certified, body.by(actor).operator_id,
        Cause.request(corr),
    )  # fmt: skip
    return Changed(directory_version=version)


@directory_router.put("/hospitals/{hospital_id}/certification", **for_roles(Role.OPERATOR))
def set_certification(
    hospital_id: str,
    body: Certification,
    routing: Routing,
    corr: CorrelationId,
    actor: CurrentActor,
) -> Changed:
    version = routing.set_certification(
        hospital_id, body.certified, body.reason, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@directory_router.post("/centers", status_code=status.HTTP_201_CREATED, **for_roles(Role.OPERATOR))
def register_center(
    body: CenterIn, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    version = routing.register_center(
        body.center_id, body.name, body.catchment, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@directory_router.post("/centers/{center_id}/catchment", **for_roles(Role.OPERATOR))
def add_catchment_area(
    center_id: str, body: CatchmentArea, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    """Add an area; 409 when another center holds it or an overlapping one (use a handover)."""
    version = routing.add_catchment_area(
        center_id, body.region_code, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@directory_router.post(
    "/centers/{center_id}/catchment/{region_code}/remove", **for_roles(Role.OPERATOR)
)
def remove_catchment_area(
    center_id: str,
    region_code: str,
    body: Removal,
    routing: Routing,
    corr: CorrelationId,
    actor: CurrentActor,
) -> Changed:
    version = routing.remove_catchment_area(
        center_id, region_code, body.reason, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@directory_router.post("/catchment-handovers", **for_roles(Role.OPERATOR))
def hand_over_catchment_area(
    body: Handover, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    """Move an area from one center to another deliberately (patients already routed stay)."""
    version = routing.hand_over_catchment_area(
        body.region_code, body.from_center_id, body.to_center_id, body.reason,
        body.by(actor).operator_id, Cause.request(corr),
    )  # fmt: skip
    return Changed(directory_version=version)


@directory_router.post(
    "/centers/{center_id}/staff", status_code=status.HTTP_201_CREATED, **for_roles(Role.OPERATOR)
)
def staff_joined(
    center_id: str, body: StaffIn, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    version = routing.staff_joined(
        center_id, body.staff_id, body.role, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@directory_router.post("/centers/{center_id}/staff/{staff_id}/leave", **for_roles(Role.OPERATOR))
def staff_left(
    center_id: str,
    staff_id: str,
    body: Removal,
    routing: Routing,
    corr: CorrelationId,
    actor: CurrentActor,
) -> Changed:
    version = routing.staff_left(
        center_id, staff_id, body.reason, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)
