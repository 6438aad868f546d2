"""A center's cases: who is followed up where, by whom, and when next."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel

from carenet_access import Access, Control, Role, for_roles, guarded
from carenet_casework.api.deps import CareBoardDep
from carenet_casework.projection import CaseView
from carenet_kit.auth import CurrentActor

router = APIRouter(prefix="/v1", tags=["cases"])


class VisitOut(BaseModel):
    visit_id: UUID
    visited_on: date
    mode: str
    risk_level: int
    classification: str
    next_follow_up_due: date
    rule_set_version: str
    medication_adherence: str
    nonadherence_reason: str | None
    medication_guidance: str | None


class CaseOut(BaseModel):
    case_id: UUID
    patient_id: UUID
    center_id: str
    category: str
    risk_level: int
    status: str
    opened_on: date
    next_follow_up_due: date
    case_manager_id: str | None
    consecutive_misses: int
    lost_to_follow_up: bool
    open_referral_id: UUID | None
    emergencies: int
    transferred_from_case_id: UUID | None
    closed_reason: str | None
    visits: list[VisitOut]


def case_out(case: CaseView) -> CaseOut:
    visits = [VisitOut(**v.__dict__) for v in case.visits]
    return CaseOut(**{**case.__dict__, "visits": visits})


@router.get("/cases", **for_roles(*Role))
def find_cases(
    board: CareBoardDep,
    actor: CurrentActor,
    control: Control,
    request: Request,
    patient_id: UUID | None = None,
    center_id: str | None = None,
    case_manager_id: str | None = None,
) -> list[CaseOut]:
    """The cases the caller may read, among those the filters select."""
    found = board.find(patient_id, center_id, case_manager_id)
    shown = control.visible(actor, (c.patient_id for c in found), request)
    return [case_out(c) for c in found if c.patient_id in shown]


@router.get("/cases/{case_id}", **guarded(Access.READ_CARE, "case"))
async def read_case(case_id: UUID, board: CareBoardDep) -> CaseOut:
    case = board.case(case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return case_out(case)
