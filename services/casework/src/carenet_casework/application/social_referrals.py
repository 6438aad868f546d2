"""Casework's use case "social referrals": a patient referred, with consent, to a partner
organisation of the directory, and the partner's answer, the service's start and its end."""

from __future__ import annotations

from uuid import UUID

from carenet_casework.application.base import CaseworkBase
from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded, RuleBroken
from carenet_casework.domain.social_referrals import Partner, Referral, SocialReferral, Step
from carenet_contracts.social import DeclineReason, ServiceOutcome
from carenet_kit.outbox import Cause

NO_REFERRAL = "no such referral to this organisation"


class SocialReferrals(CaseworkBase):
    """Referrals to social services, seen by the case's center and by the partner."""

    def partner(self, partner_id: str) -> Partner:
        found = next((p for p in self.partners if p.id == partner_id), None)
        if found is None:
            raise RuleBroken("partner_id: not a partner of the directory (see /v1/partners)")
        return Partner(found.id, frozenset(found.offers))

    def refer_to_social_service(
        self, patient_id: UUID, client_referral_id: UUID, referral: Referral, cause: Cause
    ) -> SocialReferral:
        """Refer the patient of the active case; the same request again finds what it made."""
        case = self._active_case_of(patient_id)
        if case is None:
            raise NotRecorded("no active case for this patient")
        made: SocialReferral | None = self.find(
            SocialReferral.create_id(patient_id, client_referral_id)
        )
        if made is not None:
            if made.same_request(case.id, referral):
                return made
            raise AlreadyRecorded("referral_id: names another referral of this patient")
        case_facts = (case.id, patient_id, case.center_id, case.opened_on)
        made = SocialReferral.refer(client_referral_id, case_facts, referral, self.today())
        self.commit(made, cause=cause)
        return made

    def social_referral_of(self, patient_id: UUID, referral_id: UUID) -> SocialReferral:
        referral: SocialReferral | None = self.find(referral_id)
        if not isinstance(referral, SocialReferral) or referral.patient_id != patient_id:
            raise NotRecorded("no such referral of this patient")
        return referral

    def social_referral_to(self, partner_id: str, referral_id: UUID) -> SocialReferral:
        """A referral as its partner sees it; another organisation's is not found."""
        referral: SocialReferral | None = self.find(referral_id)
        if not isinstance(referral, SocialReferral) or referral.partner_id != partner_id:
            raise NotRecorded(NO_REFERRAL)
        return referral

    def answer_social_referral(
        self,
        referral: SocialReferral,
        step: Step,
        declined_for: DeclineReason | None,
        cause: Cause,
    ) -> SocialReferral:
        """The partner accepts the referral, or declines it (`declined_for` a reason)."""
        if declined_for is None:
            referral.accept(step, self.today())
        else:
            referral.decline(step, declined_for, self.today())
        self.commit(referral, cause=cause)
        return referral

    def start_social_service(
        self, referral: SocialReferral, step: Step, cause: Cause
    ) -> SocialReferral:
        referral.start(step, self.today())
        self.commit(referral, cause=cause)
        return referral

    def end_social_service(
        self,
        referral: SocialReferral,
        step: Step,
        ending: tuple[ServiceOutcome, str],
        cause: Cause,
    ) -> SocialReferral:
        """End it with an outcome and a note (the partner, or the case manager)."""
        outcome, note = ending
        referral.end(step, outcome, note, self.today())
        self.commit(referral, cause=cause)
        return referral
