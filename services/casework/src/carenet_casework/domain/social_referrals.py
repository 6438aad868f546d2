"""A referral of a patient to a partner organisation's social service, with consent.

The case manager refers the patient to one partner of the directory for a service it offers,
saying what the patient seeks and which contact details the partner may read. The partner's
staff accept or decline it, start the service and end it with an outcome; the case manager may
end it too, when the patient withdraws. Each step is dated by the day it happened, in order:
none before the step it follows, none in the future. The referral's id is derived from the
patient and the id the client chose, so a retried request finds the referral it made, and an id
another patient's referral uses tells nobody anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import AlreadyRecorded, RuleBroken
from carenet_contracts.social import DeclineReason, ServiceOutcome, SharedDetail, SocialService

REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:social-referral")
CONSENT_VALID_FOR = timedelta(days=90)
"""A referral rests on consent given for it: on the day, or in the weeks before."""


class Stage(StrEnum):
    REFERRED = "referred"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    STARTED = "started"
    ENDED = "ended"


FINAL = frozenset({Stage.DECLINED, Stage.ENDED})


@dataclass(frozen=True)
class Partner:
    """A partner organisation as the directory has it: who, and what it offers."""

    partner_id: str
    offers: frozenset[SocialService]


@dataclass(frozen=True)
class Referral:
    """What the case manager asks of the partner."""

    partner: Partner
    service: SocialService
    needs: str
    """What the patient seeks from the service, in words the partner's staff read."""
    shares: frozenset[SharedDetail]
    referred_by: str
    referred_on: date
    consented_on: date


@dataclass(frozen=True)
class Step:
    """A step of the referral: who took it, on which day."""

    by: str
    on: date


class SocialReferral(Aggregate):
    """One referral; `stage` is where it stands, `days` when each stage was reached."""

    @staticmethod
    def create_id(patient_id: UUID, client_referral_id: UUID) -> UUID:
        return uuid5(REFERRAL_NAMESPACE, f"{patient_id}/{client_referral_id}")

    class Referred(Aggregate.Created):
        patient_id: UUID
        client_referral_id: UUID
        case_id: UUID
        center_id: str
        partner_id: str
        service: str
        needs: str
        shares: list[str]
        referred_by: str
        referred_on: date
        consented_on: date

    @event(Referred)
    def __init__(
        self,
        patient_id: UUID,
        client_referral_id: UUID,
        case_id: UUID,
        center_id: str,
        partner_id: str,
        service: str,
        needs: str,
        shares: list[str],
        referred_by: str,
        referred_on: date,
        consented_on: date,
    ) -> None:
        self.patient_id = patient_id
        self.client_referral_id = client_referral_id
        self.case_id = case_id
        self.center_id = center_id
        self.partner_id = partner_id
        self.service = SocialService(service)
        self.needs = needs
        self.shares = frozenset(map(SharedDetail, shares))
        self.referred_by = referred_by
        self.consented_on = consented_on
        self.stage = Stage.REFERRED
        self.days: dict[Stage, date] = {Stage.REFERRED: referred_on}
        self.decline_reason: DeclineReason | None = None
        self.outcome: ServiceOutcome | None = None
        self.ending_note = ""

    @classmethod
    def refer(
        cls,
        client_referral_id: UUID,
        case: tuple[UUID, UUID, str, date],
        referral: Referral,
        today: date,
    ) -> SocialReferral:
        """Refer the patient of `case` (case id, patient id, center id, the day it opened)."""
        case_id, patient_id, center_id, opened_on = case
        if referral.service not in referral.partner.offers:
            raise RuleBroken("service: the partner does not offer it (see /v1/partners)")
        if not referral.needs.strip():
            raise RuleBroken("needs: say what the patient seeks from the service")
        _check_day("referred_on", referral.referred_on, opened_on, today)
        consent_from = referral.referred_on - CONSENT_VALID_FOR
        if not consent_from <= referral.consented_on <= referral.referred_on:
            raise RuleBroken(
                "consented_on: the patient's consent to this referral, given on the day or "
                f"within {CONSENT_VALID_FOR.days} days before it"
            )
        return cls(
            patient_id=patient_id,
            client_referral_id=client_referral_id,
            case_id=case_id,
            center_id=center_id,
            partner_id=referral.partner.partner_id,
            service=referral.service.value,
            needs=referral.needs,
            shares=sorted(referral.shares),
            referred_by=referral.referred_by,
            referred_on=referral.referred_on,
            consented_on=referral.consented_on,
        )

    @property
    def referred_on(self) -> date:
        return self.days[Stage.REFERRED]

    def same_request(self, case_id: UUID, referral: Referral) -> bool:
        """Whether `referral`, for `case_id`, is the one this referral recorded (a retry)."""
        return (case_id, referral.partner.partner_id, referral.service, referral.needs) == (
            self.case_id,
            self.partner_id,
            self.service,
            self.needs,
        ) and referral.shares == self.shares

    # -- the partner's answer, the service, its end -----------------------------------------------

    class StepTaken(Aggregate.Event):
        """A step after the referral, with the facts a subscriber needs to place it."""

        patient_id: UUID
        center_id: str
        partner_id: str
        service: str

    class Accepted(StepTaken):
        accepted_by: str
        accepted_on: date

        def apply(self, referral: SocialReferral) -> None:
            referral.stage = Stage.ACCEPTED
            referral.days[Stage.ACCEPTED] = self.accepted_on

    class Declined(StepTaken):
        declined_by: str
        declined_on: date
        reason: str

        def apply(self, referral: SocialReferral) -> None:
            referral.stage = Stage.DECLINED
            referral.days[Stage.DECLINED] = self.declined_on
            referral.decline_reason = DeclineReason(self.reason)

    class Started(StepTaken):
        started_by: str
        started_on: date

        def apply(self, referral: SocialReferral) -> None:
            referral.stage = Stage.STARTED
            referral.days[Stage.STARTED] = self.started_on

    class Ended(StepTaken):
        ended_by: str
        ended_on: date
        outcome: str
        note: str
        started: bool

        def apply(self, referral: SocialReferral) -> None:
            referral.stage = Stage.ENDED
            referral.days[Stage.ENDED] = self.ended_on
            referral.outcome = ServiceOutcome(self.outcome)
            referral.ending_note = self.note

    def accept(self, step: Step, today: date) -> None:
        self._step_from((Stage.REFERRED,), "accepted_on", step.on, today)
        self.trigger_event(self.Accepted, **self._facts(), accepted_by=step.by, accepted_on=step.on)

    def decline(self, step: Step, reason: DeclineReason, today: date) -> None:
        self._step_from((Stage.REFERRED,), "declined_on", step.on, today)
        self.trigger_event(
            self.Declined,
            **self._facts(),
            declined_by=step.by,
            declined_on=step.on,
            reason=reason.value,
        )

    def start(self, step: Step, today: date) -> None:
        self._step_from((Stage.ACCEPTED,), "started_on", step.on, today)
        self.trigger_event(self.Started, **self._facts(), started_by=step.by, started_on=step.on)

    def end(self, step: Step, outcome: ServiceOutcome, note: str, today: date) -> None:
        """End it: a service not yet started ends only withdrawn (or declined, by the partner)."""
        started = self.stage is Stage.STARTED
        if not started and outcome is not ServiceOutcome.WITHDRAWN:
            raise RuleBroken("outcome: a service not started can only be withdrawn")
        self._step_from((Stage.REFERRED, Stage.ACCEPTED, Stage.STARTED), "ended_on", step.on, today)
        self.trigger_event(
            self.Ended,
            **self._facts(),
            ended_by=step.by,
            ended_on=step.on,
            outcome=outcome.value,
            note=note,
            started=started,
        )

    def _facts(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "center_id": self.center_id,
            "partner_id": self.partner_id,
            "service": self.service.value,
        }

    def _step_from(self, stages: tuple[Stage, ...], field: str, day: date, today: date) -> None:
        if self.stage not in stages:
            raise AlreadyRecorded(f"the referral is {self.stage.value}")
        _check_day(field, day, self.days[self.stage], today)


def _check_day(field: str, day: date, not_before: date, today: date) -> None:
    """A day of the referral: not after today, not before the step it follows (the case's
    opening, for the referral). The refusal names the field and the rule, never a date."""
    if day > today:
        raise RuleBroken(f"{field}: must not be in the future")
    if day < not_before:
        raise RuleBroken(f"{field}: must not be before the step it follows")
