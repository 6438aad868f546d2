"""Casework's HTTP API: peer-support sessions and group activities, with attendance."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Access, Role, for_roles, guarded, of_organisation
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.domain.sessions import SESSION_RULES, SessionPlan
from carenet_casework.projection import CareBoard, SessionView
from carenet_contracts.casework import SessionKind, StaffId
from carenet_kit.auth import Actor, CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["rehabilitation"])

TOPICS = "; ".join(f"{k.value}: {', '.join(r.topics)}" for k, r in SESSION_RULES.items())

MAX_ATTENDEES = 200
SESSION_STAFF = (Role.SOCIAL_WORKER, Role.COMMUNITY_DOCTOR, Role.PEER_SUPPORTER)
"""Who holds sessions and records attendance, for their own center."""


class HoldSession(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    session_id: UUID = Field(
        default_factory=uuid4, description="Client-chosen id makes a retried request safe."
    )
    kind: SessionKind
    topic: str = Field(description=f"By kind: {TOPICS}.")
    held_on: date = Field(description="Within a year of today, either way.")
    duration_minutes: int = Field(description="Peer support: 40-120; group activity: 30-240.")
    facilitator_id: StaffId = Field(description="The staff member or peer supporter leading it.")
    attendees: list[UUID] = Field(
        default_factory=list,
        max_length=MAX_ATTENDEES,
        description="Patient ids, if known now; attendance may be recorded later.",
    )


class Attendance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_ids: list[UUID] = Field(min_length=1, max_length=MAX_ATTENDEES)


class AttendanceRecorded(BaseModel):
    session_id: UUID
    recorded: list[UUID]
    already_recorded: list[UUID]


class SessionOut(BaseModel):
    session_id: UUID
    center_id: str
    kind: SessionKind
    topic: str
    held_on: date
    duration_minutes: int
    facilitator_id: str


class SessionWithAttendance(SessionOut):
    attendees: list[UUID]


@router.post(
    "/centers/{center_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    **of_organisation("center_id", *SESSION_STAFF),
)
def hold_session(
    center_id: str, body: HoldSession, casework: CaseworkDep, corr: CorrelationId
) -> SessionOut:
    plan = copy_of(SessionPlan, body, center_id=center_id)
    casework.hold_session(plan, body.attendees, Cause.request(corr))
    return copy_of(SessionOut, plan)


@router.post("/sessions/{session_id}/attendance", **for_roles(*SESSION_STAFF))
def record_attendance(
    session_id: UUID,
    body: Attendance,
    casework: CaseworkDep,
    corr: CorrelationId,
    board: CareBoardDep,
    actor: CurrentActor,
) -> AttendanceRecorded:
    _session_of_own_center(board, session_id, actor)
    new = casework.record_attendance(session_id, body.patient_ids, Cause.request(corr))
    return AttendanceRecorded(
        session_id=session_id,
        recorded=new,
        already_recorded=[p for p in dict.fromkeys(body.patient_ids) if p not in new],
    )


@router.get("/sessions/{session_id}", **for_roles(*SESSION_STAFF))
def read_session(
    session_id: UUID, board: CareBoardDep, actor: CurrentActor
) -> SessionWithAttendance:
    return copy_of(SessionWithAttendance, _session_of_own_center(board, session_id, actor))


def _session_of_own_center(board: CareBoard, session_id: UUID, actor: Actor) -> SessionView:
    """A session held by the caller's center; 404 for any other (its id tells nothing)."""
    session = board.session(session_id)
    if session is None or session.center_id != actor.organisation:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such session")
    return session


@router.get("/patients/{patient_id}/sessions", **guarded(Access.READ_CARE))
async def sessions_of(patient_id: UUID, board: CareBoardDep) -> list[SessionOut]:
    """The patient's rehabilitation history: sessions and activities attended."""
    return [copy_of(SessionOut, s) for s in board.sessions_of(patient_id)]
