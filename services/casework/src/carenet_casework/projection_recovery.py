"""The read model's recovery side: screenings (each patient's, and the residents' of each
center), when each recovery plan's next review falls due (for the scheduler), the centers'
prevention activities, and the referrals to social services (each patient's, each partner's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import RecoveryPlan, Screening, SocialReferral
from carenet_casework.domain.case import Closed
from carenet_casework.domain.prevention import PreventionActivity
from carenet_casework.projection import CareBoard
from carenet_casework.projection_indicators import (
    CASE_FACTS,
    STAFF_FACTS,
    CaseFacts,
    IndicatorFacts,
    StaffFacts,
)
from carenet_kit.fields import copy_of
from carenet_kit.read_model_tables import Changes
from carenet_kit.sql_tables import Table


@dataclass
class ScreeningView:
    screening_id: UUID
    patient_id: UUID | None
    resident_ref: str | None
    center_id: str
    screened_by: str
    screened_on: date
    instrument: str
    answers: list[int]
    total_score: int
    band: str
    urgent: bool
    proposes_risk_review: bool
    provider: str
    model: str
    provider_version: str


SCREENINGS = Table(
    "board_screenings",
    ScreeningView,
    key=lambda s: s.screening_id,
    columns={"patient_id": lambda s: s.patient_id, "center_id": lambda s: s.center_id},
)


@dataclass
class PlanReviews:
    """A plan's open goals, by id, with the review date whose passing is not yet recorded."""

    plan_id: UUID
    pending: dict[UUID, date]


PLAN_REVIEWS = Table(
    "board_plan_reviews",
    PlanReviews,
    key=lambda p: p.plan_id,
    columns={"review_due": lambda p: min(p.pending.values(), default=None)},
)


@dataclass
class ActivityView:
    activity_id: UUID
    center_id: str
    kind: str
    topic: str
    audience: str
    held_on: date
    attendance: int
    recorded_by: str


PREVENTION = Table(
    "board_prevention",
    ActivityView,
    key=lambda a: a.activity_id,
    columns={"center_id": lambda a: a.center_id},
)


@dataclass
class SocialReferralView:
    """Where a referral stands; its words and the contact it shares are read from the store."""

    referral_id: UUID
    patient_id: UUID
    center_id: str
    partner_id: str
    service: str
    stage: str
    referred_on: date
    steps: dict[str, date]
    """The day each stage was reached."""
    outcome: str | None = None


SOCIAL_REFERRALS = Table(
    "board_social_referrals",
    SocialReferralView,
    key=lambda r: r.referral_id,
    columns={
        "patient_id": lambda r: r.patient_id,
        "partner_id": lambda r: r.partner_id,
        "center_id": lambda r: r.center_id,
    },
)

STEP_OF: dict[type[SocialReferral.StepTaken], tuple[str, str]] = {
    SocialReferral.Accepted: ("accepted", "accepted_on"),
    SocialReferral.Declined: ("declined", "declined_on"),
    SocialReferral.Started: ("started", "started_on"),
    SocialReferral.Ended: ("ended", "ended_on"),
}
"""The stage each step of a referral reaches, and the field with its day."""


class CaseworkBoard(CareBoard, IndicatorFacts):
    """Casework's whole read model: the care board, screenings, plans' reviews, prevention,
    social referrals, and the facts the network's indicators count."""

    tables: ClassVar[Sequence[Table[Any]]] = (
        *CareBoard.tables,
        SCREENINGS,
        PLAN_REVIEWS,
        PREVENTION,
        SOCIAL_REFERRALS,
        CASE_FACTS,
        STAFF_FACTS,
    )

    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        super().apply(domain_event, changes)
        self._apply_recovery(domain_event, changes)
        self._apply_indicator_facts(domain_event, changes)

    @singledispatchmethod
    def _apply_recovery(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this part of the read model does not need are ignored."""

    @_apply_recovery.register
    def _(self, e: Screening.Completed, changes: Changes) -> None:
        changes.add(SCREENINGS, copy_of(ScreeningView, e))

    @_apply_recovery.register
    def _(self, e: RecoveryPlan.Agreed | RecoveryPlan.Revised, changes: Changes) -> None:
        pending = {
            g["goal_id"]: g["review_on"]
            for g in e.goals
            if g["due_recorded_for"] != g["review_on"]  # a revision keeps what was recorded
        }
        changes.add(PLAN_REVIEWS, PlanReviews(e.originator_id, pending))

    @_apply_recovery.register
    def _(self, e: RecoveryPlan.GoalReviewed, changes: Changes) -> None:
        if not e.stands:
            return  # a late review: the goal's newer one stands
        plan = changes.change(PLAN_REVIEWS, e.originator_id)
        if e.next_review_on is None:
            plan.pending.pop(e.goal_id, None)
        else:
            plan.pending[e.goal_id] = e.next_review_on

    @_apply_recovery.register
    def _(self, e: RecoveryPlan.ReviewFellDue, changes: Changes) -> None:
        plan = changes.change(PLAN_REVIEWS, e.originator_id)
        for goal_id in e.goal_ids:
            plan.pending.pop(goal_id, None)

    @_apply_recovery.register
    def _(self, e: Closed, changes: Changes) -> None:
        """A closed case's plan falls due no more (a transfer's new case gets a plan of its own)."""
        changes.remove(PLAN_REVIEWS, RecoveryPlan.create_id(e.originator_id))

    @_apply_recovery.register
    def _(self, e: PreventionActivity.Held, changes: Changes) -> None:
        changes.add(PREVENTION, copy_of(ActivityView, e))

    @_apply_recovery.register
    def _(self, e: SocialReferral.Referred, changes: Changes) -> None:
        view = copy_of(
            SocialReferralView,
            e,
            referral_id=e.originator_id,
            stage="referred",
            steps={"referred": e.referred_on},
        )
        changes.add(SOCIAL_REFERRALS, view)

    @_apply_recovery.register
    def _(self, e: SocialReferral.StepTaken, changes: Changes) -> None:
        stage, day = STEP_OF[type(e)]
        referral = changes.change(SOCIAL_REFERRALS, e.originator_id)
        referral.stage = stage
        referral.steps[stage] = getattr(e, day)
        if isinstance(e, SocialReferral.Ended):
            referral.outcome = e.outcome

    def reviews_falling_due(self, today: date) -> list[UUID]:
        """The plans with a goal whose review date has come (`RecoveryPlan` decides)."""
        due = self.select(PLAN_REVIEWS, "review_due <= ?", [today.isoformat()])
        return [p.plan_id for p in due]

    def screenings_of(self, patient_id: UUID) -> list[ScreeningView]:
        return self.where(SCREENINGS, patient_id=patient_id)

    def residents_screened_at(self, center_id: str) -> list[ScreeningView]:
        return [s for s in self.where(SCREENINGS, center_id=center_id) if s.patient_id is None]

    def prevention_activities_at(self, center_id: str) -> list[ActivityView]:
        return self.where(PREVENTION, center_id=center_id)

    def social_referrals_of(self, patient_id: UUID) -> list[SocialReferralView]:
        return self.where(SOCIAL_REFERRALS, patient_id=patient_id)

    def social_referrals_to(self, partner_id: str) -> list[SocialReferralView]:
        return self.where(SOCIAL_REFERRALS, partner_id=partner_id)

    def indicator_facts(self, center_id: str | None) -> list[CaseFacts]:
        """The facts of every case, open or closed, of the center (None: of every center)."""
        return self.where(CASE_FACTS, center_id=center_id)

    def staff_facts(self, center_id: str | None) -> list[StaffFacts]:
        return self.where(STAFF_FACTS, center_id=center_id)

    def social_referrals_from(self, center_id: str | None) -> list[SocialReferralView]:
        return self.where(SOCIAL_REFERRALS, center_id=center_id)

    def prevention_activities_of(self, center_id: str | None) -> list[ActivityView]:
        return self.where(PREVENTION, center_id=center_id)
