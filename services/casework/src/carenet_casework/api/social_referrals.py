"""Casework's HTTP API: referrals to social services, as the patient's care network sees them.

Who may record care refers the patient of the active case, with consent, to a partner of the
directory (`/v1/partners`), and may end a referral the patient withdraws; who may read care
reads them. The partner's side is `api.partners`.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Access, guarded
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.domain.social_referrals import Referral, SocialReferral, Step
from carenet_contracts.social import DeclineReason, ServiceOutcome, SharedDetail, SocialService
from carenet_kit.auth import CurrentActor
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["social referrals"])


class Refer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    referral_id: UUID = Field(
        default_factory=uuid4,
        description="Client-chosen: the same request again answers the referral it made.",
    )
    partner_id: str = Field(min_length=1, max_length=64, description="A partner of /v1/partners.")
    service: SocialService = Field(description="One the partner offers.")
    needs: str = Field(
        min_length=1,
        max_length=1000,
        description="What the patient seeks from the service, for the partner's staff to read.",
    )
    shares: list[SharedDetail] = Field(
        default_factory=list,
        description="The contact details the patient agreed the partner may read.",
    )
    consented_on: date = Field(description="The day the patient consented to this referral.")
    referred_on: date | None = Field(
        default=None, description="The day of the referral, if earlier than today (entered late)."
    )


class EndReferral(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: ServiceOutcome
    note: str = Field(default="", max_length=1000, description="How it went, in words.")
    ended_on: date | None = Field(
        default=None, description="The day it ended, if earlier than today (entered late)."
    )


class SocialReferralOut(BaseModel):
    referral_id: UUID
    partner_id: str
    service: SocialService
    needs: str
    shares: list[SharedDetail]
    stage: str = Field(description="referred, accepted, declined, started or ended.")
    referred_on: date
    consented_on: date
    steps: dict[str, date] = Field(description="The day each stage was reached.")
    decline_reason: DeclineReason | None
    outcome: ServiceOutcome | None
    ending_note: str


def referral_out(referral: SocialReferral) -> SocialReferralOut:
    return SocialReferralOut(
        referral_id=referral.id,
        partner_id=referral.partner_id,
        service=referral.service,
        needs=referral.needs,
        shares=sorted(referral.shares),
        stage=referral.stage.value,
        referred_on=referral.referred_on,
        consented_on=referral.consented_on,
        steps={stage.value: day for stage, day in referral.days.items()},
        decline_reason=referral.decline_reason,
        outcome=referral.outcome,
        ending_note=referral.ending_note,
    )


@router.post(
    "/patients/{patient_id}/social-referrals",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def refer(
    patient_id: UUID,
    body: Refer,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> SocialReferralOut:
    referral = Referral(
        partner=casework.partner(body.partner_id),
        service=body.service,
        needs=body.needs,
        shares=frozenset(body.shares),
        referred_by=actor.subject,
        referred_on=body.referred_on or casework.today(),
        consented_on=body.consented_on,
    )
    made = casework.refer_to_social_service(
        patient_id, body.referral_id, referral, Cause.request(corr)
    )
    return referral_out(made)


@router.get("/patients/{patient_id}/social-referrals", **guarded(Access.READ_CARE))
def social_referrals(
    patient_id: UUID, casework: CaseworkDep, board: CareBoardDep
) -> list[SocialReferralOut]:
    """The patient's referrals, every case's, by the day they were made."""
    made = sorted(board.social_referrals_of(patient_id), key=lambda r: r.referred_on)
    return [referral_out(casework.social_referral_of(patient_id, r.referral_id)) for r in made]


@router.post(
    "/patients/{patient_id}/social-referrals/{social_referral_id}/end",
    **guarded(Access.RECORD_CARE),
)
def end_referral(
    patient_id: UUID,
    social_referral_id: UUID,
    body: EndReferral,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> SocialReferralOut:
    """End a referral for the patient: withdrawn, or ended with an outcome the case manager
    learned of."""
    referral = casework.social_referral_of(patient_id, social_referral_id)
    step = Step(actor.subject, body.ended_on or casework.today())
    ended = casework.end_social_service(
        referral, step, (body.outcome, body.note), Cause.request(corr)
    )
    return referral_out(ended)
