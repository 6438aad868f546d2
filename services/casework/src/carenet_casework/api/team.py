"""Casework's HTTP API: a patient's care-and-assistance team and case-manager reassignment."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Access, guarded
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.domain.team import LeaveReason, ReassignmentReason
from carenet_contracts.casework import StaffId
from carenet_contracts.common import CareTeamRole
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["care team"])


class AddMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: StaffId
    role: CareTeamRole = Field(
        description="Staff and volunteer roles; the case manager, relatives and the guardian "
        "join through their own endpoints."
    )


class MemberOut(BaseModel):
    member_id: str
    role: CareTeamRole
    joined_at: datetime


class TeamOut(BaseModel):
    patient_id: UUID
    case_id: UUID
    center_id: str
    members: list[MemberOut]


class MemberAdded(BaseModel):
    patient_id: UUID
    member_id: str
    role: CareTeamRole


class Reassign(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    case_manager_id: StaffId = Field(description="A social worker of the case's center.")
    reason: ReassignmentReason


class Reassigned(BaseModel):
    case_id: UUID
    case_manager_id: str
    previous_case_manager_id: str | None


@router.get("/patients/{patient_id}/care-team", **guarded(Access.READ_CARE))
async def read_team(patient_id: UUID, board: CareBoardDep) -> TeamOut:
    team = board.team(patient_id)
    if team is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no care team for this patient")
    return TeamOut(
        patient_id=team.patient_id,
        case_id=team.case_id,
        center_id=team.center_id,
        members=[MemberOut(**m.__dict__) for m in team.members],
    )


@router.post(
    "/patients/{patient_id}/care-team",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def add_member(
    patient_id: UUID, body: AddMember, casework: CaseworkDep, corr: CorrelationId
) -> MemberAdded:
    casework.add_team_member(patient_id, body.member_id, body.role, Cause.request(corr))
    return MemberAdded(patient_id=patient_id, member_id=body.member_id, role=body.role)


@router.delete(
    "/patients/{patient_id}/care-team/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **guarded(Access.RECORD_CARE),
)
def remove_member(
    patient_id: UUID,
    member_id: str,
    role: CareTeamRole,
    reason: LeaveReason,
    casework: CaseworkDep,
    corr: CorrelationId,
) -> None:
    """The member leaves the role (`?role=...&reason=...`); the team's history keeps them."""
    casework.remove_team_member(patient_id, member_id, role, reason, Cause.request(corr))


@router.post("/cases/{case_id}/case-manager", **guarded(Access.RECORD_CARE, "case"))
def reassign_case_manager(
    case_id: UUID, body: Reassign, casework: CaseworkDep, corr: CorrelationId
) -> Reassigned:
    """Another social worker of the center takes the case; caseload and team follow."""
    previous = casework.reassign_case_manager(
        case_id, body.case_manager_id, body.reason, Cause.request(corr)
    )
    return Reassigned(
        case_id=case_id, case_manager_id=body.case_manager_id, previous_case_manager_id=previous
    )
