"""Routing's directory API: hospitals, centers, catchment areas and staff, each change versioned."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, StrictBool

from carenet_access import Role, for_roles
from carenet_kit.auth import CurrentActor
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause
from carenet_routing.api.deps import (
    Command,
    DistrictCode,
    Name,
    OrganisationId,
    Reason,
    RegionCode,
    Routing,
)
from carenet_routing.domain import Center, Hospital, StaffRole

router = APIRouter(prefix="/v1/directory", tags=["directory"])


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


@router.get("", **for_roles(*Role))
def read_directory(routing: Routing) -> DirectoryOut:
    """The whole directory at its current version (the version routes and referrals record)."""
    d = routing.directory()
    return DirectoryOut(
        version=d.version,
        hospitals=[_hospital(h) for h in d.hospitals],
        centers=[_center(c) for c in d.centers],
    )


@router.get("/centers", **for_roles(*Role))
def directory_centers(routing: Routing) -> list[CenterOut]:
    return [_center(c) for c in routing.directory().centers]


@router.get("/centers/{center_id}", **for_roles(*Role))
def directory_center(center_id: str, routing: Routing) -> CenterAtVersion:
    d = routing.directory()
    center = next((c for c in d.centers if c.id == center_id), None)
    if center is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown community health center")
    return CenterAtVersion(**_center(center).model_dump(), directory_version=d.version)


@router.get("/hospitals/{hospital_id}", **for_roles(*Role))
def directory_hospital(hospital_id: str, routing: Routing) -> HospitalAtVersion:
    d = routing.directory()
    hospital = next((h for h in d.hospitals if h.id == hospital_id), None)
    if hospital is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown hospital")
    return HospitalAtVersion(**_hospital(hospital).model_dump(), directory_version=d.version)


@router.post("/hospitals", status_code=status.HTTP_201_CREATED, **for_roles(Role.OPERATOR))
def register_hospital(
    body: HospitalIn, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    version = routing.register_hospital(
        body.hospital_id, body.name, body.district, body.certified, body.by(actor).operator_id,
        Cause.request(corr),
    )  # fmt: skip
    return Changed(directory_version=version)


@router.put("/hospitals/{hospital_id}/certification", **for_roles(Role.OPERATOR))
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


@router.post("/centers", status_code=status.HTTP_201_CREATED, **for_roles(Role.OPERATOR))
def register_center(
    body: CenterIn, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    version = routing.register_center(
        body.center_id, body.name, body.catchment, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@router.post("/centers/{center_id}/catchment", **for_roles(Role.OPERATOR))
def add_catchment_area(
    center_id: str, body: CatchmentArea, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    """Add an area; 409 when another center holds it or an overlapping one (use a handover)."""
    version = routing.add_catchment_area(
        center_id, body.region_code, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@router.post("/centers/{center_id}/catchment/{region_code}/remove", **for_roles(Role.OPERATOR))
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


@router.post("/catchment-handovers", **for_roles(Role.OPERATOR))
def hand_over_catchment_area(
    body: Handover, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    """Move an area from one center to another deliberately (patients already routed stay)."""
    version = routing.hand_over_catchment_area(
        body.region_code, body.from_center_id, body.to_center_id, body.reason,
        body.by(actor).operator_id, Cause.request(corr),
    )  # fmt: skip
    return Changed(directory_version=version)


@router.post(
    "/centers/{center_id}/staff", status_code=status.HTTP_201_CREATED, **for_roles(Role.OPERATOR)
)
def staff_joined(
    center_id: str, body: StaffIn, routing: Routing, corr: CorrelationId, actor: CurrentActor
) -> Changed:
    version = routing.staff_joined(
        center_id, body.staff_id, body.role, body.by(actor).operator_id, Cause.request(corr)
    )
    return Changed(directory_version=version)


@router.post("/centers/{center_id}/staff/{staff_id}/leave", **for_roles(Role.OPERATOR))
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
