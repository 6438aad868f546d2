"""Casework's HTTP API: the directory of social-service partners, and the partner's side of the
referrals made to it.

A partner's staff (`partner_staff`) see only the referrals to their own organisation, and of
each only what it shares: the service, what the patient seeks, the stage, and the contact
details the patient agreed to share (opened from the case's sealed copy on each read). They
never see a patient id or the care record. Each referral shown is a recorded read of the
patient's record, as any other.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from carenet_access import Access, Role, for_roles, of_organisation
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.api.social_referrals import EndReferral
from carenet_casework.application import CaseworkApplication
from carenet_casework.domain.errors import Erased, NotYetShared, RuleBroken
from carenet_casework.domain.social_referrals import SocialReferral, Step
from carenet_contracts.social import DeclineReason, ServiceOutcome, SharedDetail, SocialService
from carenet_kit.access_log import AccessEntry
from carenet_kit.auth import Actor, CurrentActor
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["social referrals"])

PARTNER = of_organisation("partner_id", Role.PARTNER_STAFF)


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    offers: list[SocialService]
    districts: list[str]
    address: str


class SharedContact(BaseModel):
    name: str | None
    phone: str | None


class ReferralToPartner(BaseModel):
    referral_id: UUID
    service: SocialService
    needs: str
    stage: str = Field(description="referred, accepted, declined, started or ended.")
    referred_on: date
    steps: dict[str, date]
    outcome: ServiceOutcome | None
    shares: list[SharedDetail]
    contact: SharedContact | None = Field(
        default=None,
        description="What the referral shares, in the answer for one referral; null when it "
        "shares nothing, the hospital has not shared the details yet, or they were erased.",
    )


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: bool
    reason: DeclineReason | None = Field(default=None, description="Required when declining.")
    answered_on: date | None = Field(
        default=None, description="The day of the answer, if earlier than today (entered late)."
    )


class Start(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    started_on: date = Field(description="The day the patient began to use the service.")


def _to_partner(referral: SocialReferral) -> ReferralToPartner:
    return ReferralToPartner(
        referral_id=referral.id,
        service=referral.service,
        needs=referral.needs,
        stage=referral.stage.value,
        referred_on=referral.referred_on,
        steps={stage.value: day for stage, day in referral.days.items()},
        outcome=referral.outcome,
        shares=sorted(referral.shares),
    )


def _shared_contact(referral: SocialReferral, casework: CaseworkApplication) -> SharedContact:
    try:
        contact = casework.contact(referral.case_id)
    except (NotYetShared, Erased):
        return SharedContact(name=None, phone=None)
    return SharedContact(
        name=contact.name if SharedDetail.NAME in referral.shares else None,
        phone=contact.phone if SharedDetail.PHONE in referral.shares else None,
    )


def _record_reads(
    request: Request, actor: Actor, referrals: list[SocialReferral], access: Access
) -> None:
    casework: CaseworkApplication = request.app.state.application
    entries = [
        AccessEntry(
            patient_id=r.patient_id,
            reader_id=actor.subject,
            reader_organisation=actor.organisation,
            reader_role=actor.role,
            record=f"casework.{request.scope['endpoint'].__name__}",
            access=access.value,
            purpose="care",
            granted=True,
        )
        for r in referrals
    ]
    casework.record_accesses(entries, Cause.request(request.state.correlation_id))


@router.get("/partners", **for_roles(*Role))
def partners(casework: CaseworkDep, service: SocialService | None = None) -> list[PartnerOut]:
    """The directory of social-service partners: what each offers, and where."""
    return [
        PartnerOut(
            partner_id=p.id,
            name=p.name,
            offers=list(p.offers),
            districts=list(p.districts),
            address=p.address,
        )
        for p in casework.partners
        if service is None or service in p.offers
    ]


@router.get("/partners/{partner_id}/referrals", **PARTNER)
def referrals_to_partner(
    partner_id: str,
    request: Request,
    actor: CurrentActor,
    casework: CaseworkDep,
    board: CareBoardDep,
) -> list[ReferralToPartner]:
    """The referrals to the organisation, by the day they were made (contact: one by one)."""
    made = sorted(board.social_referrals_to(partner_id), key=lambda r: r.referred_on)
    referrals = [casework.social_referral_to(partner_id, r.referral_id) for r in made]
    _record_reads(request, actor, referrals, Access.READ_CARE)
    return [_to_partner(r) for r in referrals]


@router.get("/partners/{partner_id}/referrals/{social_referral_id}", **PARTNER)
def referral_to_partner(
    partner_id: str,
    social_referral_id: UUID,
    request: Request,
    actor: CurrentActor,
    casework: CaseworkDep,
) -> ReferralToPartner:
    """One referral, with the contact details it shares."""
    referral = casework.social_referral_to(partner_id, social_referral_id)
    shown = _to_partner(referral)
    if referral.shares:
        shown.contact = _shared_contact(referral, casework)
    _record_reads(
        request, actor, [referral], Access.READ_IDENTITY if referral.shares else Access.READ_CARE
    )
    return shown


@router.post("/partners/{partner_id}/referrals/{social_referral_id}/answer", **PARTNER)
def answer_referral(
    partner_id: str,
    social_referral_id: UUID,
    body: Answer,
    actor: CurrentActor,
    casework: CaseworkDep,
    corr: CorrelationId,
) -> ReferralToPartner:
    """Accept the referral, or decline it with a reason."""
    if body.accepted == (body.reason is not None):
        raise RuleBroken("reason: required when declining, and only then")
    referral = casework.social_referral_to(partner_id, social_referral_id)
    step = Step(actor.subject, body.answered_on or casework.today())
    answered = casework.answer_social_referral(referral, step, body.reason, Cause.request(corr))
    return _to_partner(answered)


@router.post("/partners/{partner_id}/referrals/{social_referral_id}/start", **PARTNER)
def start_service(
    partner_id: str,
    social_referral_id: UUID,
    body: Start,
    actor: CurrentActor,
    casework: CaseworkDep,
    corr: CorrelationId,
) -> ReferralToPartner:
    referral = casework.social_referral_to(partner_id, social_referral_id)
    step = Step(actor.subject, body.started_on)
    return _to_partner(casework.start_social_service(referral, step, Cause.request(corr)))


@router.post("/partners/{partner_id}/referrals/{social_referral_id}/end", **PARTNER)
def end_service(
    partner_id: str,
    social_referral_id: UUID,
    body: EndReferral,
    actor: CurrentActor,
    casework: CaseworkDep,
    corr: CorrelationId,
) -> ReferralToPartner:
    """End the service with its outcome."""
    referral = casework.social_referral_to(partner_id, social_referral_id)
    step = Step(actor.subject, body.ended_on or casework.today())
    ending = (body.outcome, body.note)
    return _to_partner(casework.end_social_service(referral, step, ending, Cause.request(corr)))
