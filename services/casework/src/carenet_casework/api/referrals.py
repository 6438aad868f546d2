"""Emergencies and two-way referral, from the community's side."""

from __future__ import annotations

from typing import Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from carenet_access import Access, guarded
from carenet_casework.api.deps import CaseworkDep
from carenet_casework.domain import Emergency
from carenet_contracts.casework import EmergencyKind
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["emergencies and referrals"])


class RecordEmergency(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    emergency_id: UUID = Field(default_factory=uuid4)
    kind: EmergencyKind
    occurred_at: AwareDatetime = Field(
        description="Not in the future (clock tolerance), not before the case opened."
    )
    handled_by: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    handling: str = Field(min_length=1, max_length=2000, description="What was done.")


class EmergencyOut(BaseModel):
    emergency_id: UUID
    recorded_late: bool = Field(description="More than the rules' 24 hours after it began.")
    referral_id: UUID | None = Field(description="The referral it asked for, if it did.")
    rule_set_version: str


class WithdrawReferral(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Literal["withdrawn", "patient_unreachable"] = Field(
        description="Published to routing and the hospital, so a code, never free text."
    )


@router.post(
    "/cases/{case_id}/emergencies",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE, "case"),
)
def record_emergency(
    case_id: UUID, body: RecordEmergency, casework: CaseworkDep, corr: CorrelationId
) -> EmergencyOut:
    emergency = Emergency(
        body.emergency_id, body.kind.value, body.occurred_at, body.handled_by, body.handling
    )
    outcome = casework.record_emergency(case_id, emergency, Cause.request(corr))
    return EmergencyOut(emergency_id=body.emergency_id, **outcome.__dict__)


@router.post(
    "/cases/{case_id}/referrals/{referral_id}/withdrawal",
    status_code=status.HTTP_204_NO_CONTENT,
    **guarded(Access.RECORD_CARE, "case"),
)
def withdraw_referral(
    case_id: UUID,
    referral_id: UUID,
    body: WithdrawReferral,
    casework: CaseworkDep,
    corr: CorrelationId,
) -> None:
    casework.withdraw_referral(case_id, referral_id, body.reason, Cause.request(corr))
