"""Casework's HTTP API: the patient's personal recovery plan.

Who may record care may agree, revise and review the plan (the case manager, with the patient
and, within their consent, the family); who may read care may read it. The answer is the plan
as recorded, read from the store (not the read model), with its reviews.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Access, guarded
from carenet_casework.api.deps import CaseworkDep
from carenet_casework.domain.errors import NotRecorded
from carenet_casework.domain.recovery_plan import Agreement, Goal, RecoveryPlan, Review
from carenet_contracts.recovery import GoalProgress
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["recovery"])

Words = Field(min_length=1, max_length=500)


class GoalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    goal_id: UUID = Field(
        default_factory=uuid4, description="Omit for a new goal; give a goal's id to keep it."
    )
    domain: str = Field(description="A life domain of the rule set (`casework.recovery.domains`).")
    wants: str = Field(
        min_length=1, max_length=500, description="What the patient wants, in their words."
    )
    steps: list[str] = Field(min_length=1, max_length=10, description="The steps agreed.")
    helpers: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Who helps: staff ids, 'family', a partner organisation.",
    )
    review_on: date = Field(description="When the goal is reviewed (within the rule set's period).")
    shared_with_family: bool = Field(
        default=False,
        description="The patient lets relatives whose consent covers 'recovery_goals' see it.",
    )


class AgreePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    goals: list[GoalIn] = Field(min_length=1, max_length=20)
    family_took_part: bool = False
    agreed_on: date | None = Field(
        default=None, description="The day it was agreed, if earlier than today (entered late)."
    )


class RevisePlan(AgreePlan):
    reason: str = Field(min_length=1, max_length=500)


class ReviewGoal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    progress: GoalProgress
    reason: str = Field(min_length=1, max_length=500)
    next_review_on: date | None = Field(
        default=None, description="Required unless the goal was achieved or dropped."
    )
    reviewed_on: date | None = Field(
        default=None, description="The day of the review, if earlier than today (entered late)."
    )


class GoalOut(BaseModel):
    goal_id: UUID
    domain: str
    wants: str
    steps: list[str]
    helpers: list[str]
    review_on: date | None
    shared_with_family: bool
    progress: GoalProgress
    last_reviewed_on: date | None


class ReviewOut(BaseModel):
    goal_id: UUID
    reviewed_by: str
    reviewed_on: date
    progress: GoalProgress
    reason: str
    next_review_on: date | None


class PlanOut(BaseModel):
    plan_id: UUID
    patient_id: UUID
    case_id: UUID
    center_id: str
    revision: int
    agreed_on: date
    review_due: date | None = Field(description="The earliest review not yet recorded as due.")
    goals: list[GoalOut]
    reviews: list[ReviewOut]


def plan_out(plan: RecoveryPlan) -> PlanOut:
    return PlanOut(
        plan_id=plan.id,
        patient_id=plan.patient_id,
        case_id=plan.case_id,
        center_id=plan.center_id,
        revision=plan.revision,
        agreed_on=plan.agreed_on,
        review_due=plan.review_due,
        goals=[copy_of(GoalOut, g) for g in plan.goals.values()],
        reviews=[copy_of(ReviewOut, r) for r in plan.reviews],
    )


def _goals(body: AgreePlan) -> list[Goal]:
    return [copy_of(Goal, g, steps=tuple(g.steps), helpers=tuple(g.helpers)) for g in body.goals]


def _agreement(body: AgreePlan, actor: CurrentActor, today: date) -> Agreement:
    return Agreement(actor.subject, body.agreed_on or today, body.family_took_part)


@router.post(
    "/patients/{patient_id}/recovery-plan",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def agree_plan(
    patient_id: UUID,
    body: AgreePlan,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> PlanOut:
    agreement = _agreement(body, actor, casework.today())
    plan = casework.agree_recovery_plan(patient_id, agreement, _goals(body), Cause.request(corr))
    return plan_out(plan)


@router.put("/patients/{patient_id}/recovery-plan", **guarded(Access.RECORD_CARE))
def revise_plan(
    patient_id: UUID,
    body: RevisePlan,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> PlanOut:
    """The whole plan again: goals kept by id keep their progress; goals left out are taken out."""
    agreement = _agreement(body, actor, casework.today())
    plan = casework.revise_recovery_plan(
        patient_id, agreement, body.reason, _goals(body), Cause.request(corr)
    )
    return plan_out(plan)


@router.post(
    "/patients/{patient_id}/recovery-plan/goals/{goal_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def review_goal(
    patient_id: UUID,
    goal_id: UUID,
    body: ReviewGoal,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> PlanOut:
    review = copy_of(
        Review,
        body,
        goal_id=goal_id,
        reviewed_by=actor.subject,
        reviewed_on=body.reviewed_on or casework.today(),
    )
    return plan_out(casework.review_recovery_goal(patient_id, review, Cause.request(corr)))


@router.get("/patients/{patient_id}/recovery-plan", **guarded(Access.READ_CARE))
def recovery_plan(patient_id: UUID, casework: CaseworkDep) -> PlanOut:
    plan = casework.recovery_plan(patient_id)
    if plan is None:
        raise NotRecorded("no recovery plan on the patient's active case")
    return plan_out(plan)
