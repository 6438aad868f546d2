"""The case manager's follow-up visits: the national form, classified by the rule set."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from carenet_access import Access, guarded
from carenet_casework.api.deps import CaseworkDep
from carenet_casework.domain import Medication, Visit
from carenet_casework.rules import Rating, Symptoms, VisitFindings
from carenet_contracts import VisitClassification, VisitMode
from carenet_contracts.common import NOT_TAKEN_AS_PRESCRIBED, NonadherenceReason
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["visits"])

Judgement = Literal["good", "fair", "poor"]


class MedicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    drug: str = Field(min_length=1, max_length=100)
    daily_dose: str = Field(min_length=1, max_length=50)


class RecordVisit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    visit_id: UUID = Field(
        default_factory=uuid4, description="Client-chosen id makes a retried request safe."
    )
    visited_on: date = Field(
        description="Not after today at the centers (clock tolerance), not before the case opened."
    )
    mode: VisitMode
    seen: Literal["patient", "family", "patient_and_family"]
    risk_level: int = Field(ge=0, le=5)
    symptoms: Symptoms
    insight: Rating
    social_functioning: Rating
    sleep: Judgement = "fair"
    diet: Judgement = "fair"
    medication_adherence: Literal["regular", "intermittent", "none", "not_prescribed"] = Field(
        description="Asked at every visit (the national form): no default stands in for it."
    )
    nonadherence_reason: NonadherenceReason | None = Field(
        default=None, description="Why, exactly when the adherence is intermittent or none."
    )
    medication_guidance: str = Field(
        default="",
        max_length=1000,
        description="The medication guidance given, in words; kept in casework's record (the "
        "published event says only whether any was given).",
    )
    adverse_reactions: str = Field(default="", max_length=500)
    acute_adverse_reaction: bool = False
    serious_physical_illness: bool = False
    admissions_since_last_visit: int = Field(default=0, ge=0, le=50)
    referral_advice: Literal["none", "suggested", "done"] = "none"
    referred_to: str | None = Field(default=None, max_length=64)
    medication: list[MedicationIn] = Field(default_factory=list, max_length=20)
    rehabilitation_measures: list[str] = Field(default_factory=list, max_length=20)
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _reason_goes_with_nonadherence(self) -> Self:
        if (self.medication_adherence in NOT_TAKEN_AS_PRESCRIBED) != (
            self.nonadherence_reason is not None
        ):
            raise ValueError(
                "nonadherence_reason is required when medication_adherence is intermittent "
                "or none, and only then"
            )
        return self


class VisitRecordedOut(BaseModel):
    case_id: UUID
    visit_id: UUID
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str
    referral_id: UUID | None = Field(description="Set when the visit asked for a referral.")


@router.post(
    "/cases/{case_id}/visits",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE, "case"),
)
def record_visit(
    case_id: UUID, body: RecordVisit, casework: CaseworkDep, corr: CorrelationId
) -> VisitRecordedOut:
    visit = copy_of(
        Visit,
        body,
        mode=body.mode.value,
        nonadherence_reason=body.nonadherence_reason and body.nonadherence_reason.value,
        findings=copy_of(VisitFindings, body),
        medication=tuple(Medication(m.drug, m.daily_dose) for m in body.medication),
        rehabilitation_measures=tuple(body.rehabilitation_measures),
    )
    outcome = casework.record_visit(case_id, visit, Cause.request(corr))
    return VisitRecordedOut(case_id=case_id, visit_id=body.visit_id, **outcome.__dict__)
