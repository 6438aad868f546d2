"""Casework's HTTP API: the center's prevention and education activities (counts, no persons)."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import of_organisation
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.api.sessions import SESSION_STAFF
from carenet_casework.domain.prevention import MAX_ATTENDANCE, Activity, ActivityKind, Audience
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["prevention"])


class HoldActivity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    activity_id: UUID = Field(
        default_factory=uuid4, description="Client-chosen id makes a retried request safe."
    )
    kind: ActivityKind
    topic: str = Field(min_length=3, max_length=200, description="What it was about; no names.")
    audience: Audience
    held_on: date = Field(description="Not after today, not more than a year ago.")
    attendance: int = Field(ge=1, le=MAX_ATTENDANCE, description="How many came (a count).")


class ActivityOut(BaseModel):
    activity_id: UUID
    center_id: str
    kind: ActivityKind
    topic: str
    audience: Audience
    held_on: date
    attendance: int
    recorded_by: str


@router.post(
    "/centers/{center_id}/prevention-activities",
    status_code=status.HTTP_201_CREATED,
    **of_organisation("center_id", *SESSION_STAFF),
)
def record_activity(
    center_id: str,
    body: HoldActivity,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> ActivityOut:
    activity = copy_of(Activity, body, center_id=center_id, recorded_by=actor.subject)
    held = casework.record_prevention_activity(activity, Cause.request(corr))
    return copy_of(ActivityOut, held)


@router.get(
    "/centers/{center_id}/prevention-activities", **of_organisation("center_id", *SESSION_STAFF)
)
def activities(center_id: str, board: CareBoardDep) -> list[ActivityOut]:
    """The center's activities, in the order they were recorded."""
    return [copy_of(ActivityOut, a) for a in board.prevention_activities_at(center_id)]
