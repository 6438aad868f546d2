"""Casework's HTTP API: a center's staff roster and training, kept by the center's lead.

The roster is the whole of it each time (PUT); the center's staff may read it with the caseload
set against it. The network's lead sees every center's staffing in the indicators.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Role, of_organisation
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.domain.case_file import CLOSED
from carenet_casework.domain.staffing import CenterStaff, Member, StaffRole, Training
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["staffing"])

LEAD = of_organisation("center_id", Role.CENTER_LEAD)
CENTER = of_organisation("center_id", Role.CENTER_LEAD, Role.SOCIAL_WORKER, Role.COMMUNITY_DOCTOR)
StaffId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff_id: str = StaffId
    role: StaffRole
    hours_per_week: int = Field(ge=1, le=60)


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    members: list[MemberIn] = Field(max_length=500)


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff_id: str = StaffId
    course: str = Field(min_length=3, max_length=200)
    hours: int = Field(ge=1, le=400)
    completed_on: date


class StaffingOut(BaseModel):
    center_id: str
    members: list[MemberIn]
    trainings: list[TrainingIn]
    full_time: dict[StaffRole, float] = Field(description="Each role in full-time equivalents.")
    active_cases: int
    cases_per_social_worker: float | None = Field(
        description="Active cases per full-time social worker on the roster."
    )
    caseload_warning: bool = Field(
        description="Above the rule set's casework.indicators.caseload_warning_above."
    )


def _out(center_id: str, staff: CenterStaff | None, active: int, warn_above: int) -> StaffingOut:
    roster = staff.roster if staff else []
    full_time = {role: staff.full_time(role) for role in StaffRole} if staff else {}
    social_workers = full_time.get(StaffRole.SOCIAL_WORKER, 0)
    per_social_worker = round(active / social_workers, 1) if social_workers else None
    return StaffingOut(
        center_id=center_id,
        members=[copy_of(MemberIn, m) for m in roster],
        trainings=[copy_of(TrainingIn, t) for t in (staff.trainings if staff else [])],
        full_time=full_time,
        active_cases=active,
        cases_per_social_worker=per_social_worker,
        caseload_warning=per_social_worker is not None and per_social_worker > warn_above,
    )


@router.put("/centers/{center_id}/staff-roster", **LEAD)
def set_roster(
    center_id: str,
    body: Roster,
    casework: CaseworkDep,
    board: CareBoardDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> StaffingOut:
    members = [Member(m.staff_id, m.role, m.hours_per_week) for m in body.members]
    staff = casework.set_staff_roster(center_id, members, actor.subject, Cause.request(corr))
    return staffing(center_id, casework, board, staff)


@router.post("/centers/{center_id}/trainings", status_code=status.HTTP_201_CREATED, **LEAD)
def record_training(
    center_id: str,
    body: TrainingIn,
    casework: CaseworkDep,
    board: CareBoardDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> StaffingOut:
    training = copy_of(Training, body)
    staff = casework.record_training(center_id, training, actor.subject, Cause.request(corr))
    return staffing(center_id, casework, board, staff)


@router.get("/centers/{center_id}/staffing", **CENTER)
def read_staffing(center_id: str, casework: CaseworkDep, board: CareBoardDep) -> StaffingOut:
    """The roster, the training, and the center's caseload set against its social workers."""
    return staffing(center_id, casework, board, casework.staffing(center_id))


def staffing(
    center_id: str, casework: CaseworkDep, board: CareBoardDep, staff: CenterStaff | None
) -> StaffingOut:
    active = sum(case.status != CLOSED for case in board.find(center_id=center_id))
    return _out(center_id, staff, active, casework.rules.indicators.caseload_warning_above)
