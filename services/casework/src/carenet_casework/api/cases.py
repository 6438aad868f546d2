"""Casework's HTTP API: a center's cases and the case manager's visits."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_casework.application import CaseworkApplication
from carenet_casework.domain import Visit
from carenet_casework.projection import CaseBoard, CaseView
from carenet_casework.rules import Rating, Symptoms, VisitFindings
from carenet_contracts import VisitClassification, VisitMode
from carenet_kit.http import CorrelationId, from_app_state
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["casework"])


class RecordVisit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    visit_id: UUID = Field(
        default_factory=uuid4, description="Client-chosen id makes a retried request safe."
    )
    visited_on: date
    mode: VisitMode
    seen: str = Field(
        pattern=r"^(patient|family|patient_and_family)$",
        description="Who was seen: patient, family or patient_and_family.",
    )
    risk_level: int = Field(ge=0, le=5)
    symptoms: Symptoms
    insight: Rating
    social_functioning: Rating
    acute_adverse_reaction: bool = False
    serious_physical_illness: bool = False
    notes: str = Field(default="", max_length=2000)


class VisitRecordedOut(BaseModel):
    case_id: UUID
    visit_id: UUID
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str


class VisitOut(BaseModel):
    visit_id: UUID
    visited_on: date
    mode: str
    risk_level: int
    classification: str
    next_follow_up_due: date
    rule_set_version: str


class CaseOut(BaseModel):
    case_id: UUID
    patient_id: UUID
    center_id: str
    category: str
    risk_level: int
    next_follow_up_due: date
    case_manager_id: str | None
    visits: list[VisitOut]


Casework = Annotated[CaseworkApplication, from_app_state("application")]
Board = Annotated[CaseBoard, from_app_state("projection")]


def _out(case: CaseView) -> CaseOut:
    visits = [VisitOut(**v.__dict__) for v in case.visits]
    return CaseOut(**{**case.__dict__, "visits": visits})


@router.get("/cases", response_model=list[CaseOut])
async def find_cases(
    board: Board,
    patient_id: UUID | None = None,
    center_id: str | None = None,
    case_manager_id: str | None = None,
) -> list[CaseOut]:
    return [_out(c) for c in board.find(patient_id, center_id, case_manager_id)]


@router.get("/cases/{case_id}", response_model=CaseOut)
async def read_case(case_id: UUID, board: Board) -> CaseOut:
    case = board.case(case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return _out(case)


@router.post(
    "/cases/{case_id}/visits",
    status_code=status.HTTP_201_CREATED,
    response_model=VisitRecordedOut,
)
def record_visit(
    case_id: UUID, body: RecordVisit, casework: Casework, corr: CorrelationId
) -> VisitRecordedOut:
    visit = Visit(
        visit_id=body.visit_id,
        visited_on=body.visited_on,
        mode=body.mode.value,
        seen=body.seen,
        findings=VisitFindings(
            risk_level=body.risk_level,
            symptoms=body.symptoms,
            insight=body.insight,
            social_functioning=body.social_functioning,
            acute_adverse_reaction=body.acute_adverse_reaction,
            serious_physical_illness=body.serious_physical_illness,
        ),
        notes=body.notes,
    )
    outcome = casework.record_visit(case_id, visit, Cause.request(corr))
    return VisitRecordedOut(case_id=case_id, visit_id=body.visit_id, **outcome.__dict__)
