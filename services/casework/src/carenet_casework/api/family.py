"""Casework's HTTP API: relatives linked by consent, and what each may see of the record.

A relative is a pseudonymous member id: register their contact details with the
notifications service as the subscriber `family:<member_id>`, never here.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import ANY_PART, Access, Role, guarded
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.application import FamilyLink
from carenet_casework.domain.family import (
    NOTIFIABLE_EVENT_TYPES,
    VISIBLE_PARTS,
    ConsentGiver,
    Relationship,
    Scope,
    Withdrawer,
)
from carenet_casework.projection import CareBoard
from carenet_contracts.recovery import GoalProgress
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["family"])


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    may_see: list[str] = Field(
        default_factory=list, description=f"Parts of the record: {', '.join(VISIBLE_PARTS)}."
    )
    notified_of: list[str] = Field(
        default_factory=list,
        description=f"Event types, among: {', '.join(NOTIFIABLE_EVENT_TYPES)}.",
    )


class LinkRelative(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: UUID = Field(
        default_factory=uuid4,
        description="Omit for a new relative; give a withdrawn relative's id to link them again.",
    )
    relationship: Relationship
    is_guardian: bool = False
    consent_given_by: ConsentGiver
    scope: ScopeIn
    given_on: date | None = Field(
        default=None,
        description="The day the consent was given, if earlier than today (a form entered "
        "late); not after today, not before the case opened, not before this relative's last "
        "withdrawal. It takes effect when recorded.",
    )


class Linked(BaseModel):
    patient_id: UUID
    member_id: str
    notification_recipient: str = Field(
        description="Register the relative's contact details under this name with notifications."
    )


class RelativeOut(BaseModel):
    member_id: str
    relationship: str
    is_guardian: bool
    given_by: str
    may_see: list[str]
    notified_of: list[str]
    linked_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class Withdraw(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    withdrawn_by: Withdrawer
    withdrawn_on: date | None = Field(
        default=None,
        description="The day it was withdrawn, if earlier than today; not before the consent "
        "was given. It takes effect when recorded.",
    )


class VisitSeen(BaseModel):
    visited_on: date
    classification: str


class GoalSeen(BaseModel):
    domain: str
    wants: str
    steps: list[str]
    progress: GoalProgress
    review_on: date | None


class FamilyView(BaseModel):
    """Only the parts the consent opens; a part not consented is absent, not empty."""

    patient_id: UUID
    member_id: str
    may_see: list[str]
    next_appointment: date | None = None
    visits: list[VisitSeen] | None = None
    risk_level: int | None = None
    recovery_goals: list[GoalSeen] | None = Field(
        default=None, description="The goals of the plan the patient shares with the family."
    )


@router.post(
    "/patients/{patient_id}/family",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def link_relative(
    patient_id: UUID, body: LinkRelative, casework: CaseworkDep, corr: CorrelationId
) -> Linked:
    member_id = str(body.member_id)
    link = FamilyLink(
        member_id=member_id,
        relationship=body.relationship,
        is_guardian=body.is_guardian,
        given_by=body.consent_given_by,
        scope=Scope(tuple(body.scope.may_see), tuple(body.scope.notified_of)),
        given_on=body.given_on,
    )
    casework.link_family_member(patient_id, link, Cause.request(corr))
    return Linked(
        patient_id=patient_id, member_id=member_id, notification_recipient=f"family:{member_id}"
    )


@router.get("/patients/{patient_id}/family", **guarded(Access.READ_CARE))
async def list_relatives(patient_id: UUID, board: CareBoardDep) -> list[RelativeOut]:
    """Every relative linked, standing or withdrawn, with their latest consent."""
    return [RelativeOut(**r.__dict__) for r in board.family(patient_id)]


@router.post(
    "/patients/{patient_id}/family/{member_id}/withdraw",
    status_code=status.HTTP_204_NO_CONTENT,
    **guarded(Access.RECORD_CARE),
)
def withdraw_consent(
    patient_id: UUID, member_id: UUID, body: Withdraw, casework: CaseworkDep, corr: CorrelationId
) -> None:
    casework.withdraw_family_consent(
        patient_id, str(member_id), body.withdrawn_by, Cause.request(corr), body.withdrawn_on
    )


@router.get(
    "/patients/{patient_id}/family/{member_id}/view",
    response_model_exclude_none=True,
    **guarded(Access.READ_CARE, part=ANY_PART),
)
def family_view(
    patient_id: UUID,
    member_id: UUID,
    casework: CaseworkDep,
    board: CareBoardDep,
    actor: CurrentActor,
) -> FamilyView:
    """What this relative may see; 404 without a standing consent (checked in the store).
    A relative may read their own view only."""
    if actor.role == Role.FAMILY_MEMBER and str(member_id) != actor.subject:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a relative reads their own view only")
    consent = casework.family_consent(patient_id, str(member_id))
    if consent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no standing consent for this relative")
    view = view_for(patient_id, str(member_id), consent.scope.may_see, board)
    if "recovery_goals" in consent.scope.may_see:
        plan = casework.recovery_plan(patient_id)
        shared = [] if plan is None else [g for g in plan.goals.values() if g.shared_with_family]
        view.recovery_goals = [copy_of(GoalSeen, g, steps=list(g.steps)) for g in shared]
    return view


def view_for(
    patient_id: UUID, member_id: str, may_see: tuple[str, ...], board: CareBoard
) -> FamilyView:
    view = FamilyView(patient_id=patient_id, member_id=member_id, may_see=list(may_see))
    case = board.current_case(patient_id)
    if case is None:
        return view
    if "appointments" in may_see:
        view.next_appointment = case.next_follow_up_due
    if "visits" in may_see:
        view.visits = [
            VisitSeen(visited_on=v.visited_on, classification=v.classification) for v in case.visits
        ]
    if "risk" in may_see:
        view.risk_level = case.risk_level
    return view
