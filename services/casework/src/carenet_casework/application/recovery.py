"""Casework's use case "recovery plans": agreed on the patient's active case, reviewed, revised,
and their reviews falling due (the scheduler)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from carenet_casework.application.base import CaseworkBase
from carenet_casework.domain import Case
from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded
from carenet_casework.domain.recovery_plan import Agreement, Goal, RecoveryPlan, Review
from carenet_kit.outbox import Cause
from carenet_kit.scheduler import act_once_each


class RecoveryPlans(CaseworkBase):
    """One personal recovery plan per case."""

    def agree_recovery_plan(
        self, patient_id: UUID, agreement: Agreement, goals: list[Goal], cause: Cause
    ) -> RecoveryPlan:
        case = self._case_to_plan(patient_id)
        if RecoveryPlan.create_id(case.id) in self.repository:
            raise AlreadyRecorded("the case has a recovery plan: revise it")
        plan = RecoveryPlan.agree(
            (case.id, patient_id, case.center_id, case.opened_on),
            agreement,
            goals,
            self.rules,
            self.today(),
        )
        self.commit(plan, cause=cause)
        return plan

    def revise_recovery_plan(
        self,
        patient_id: UUID,
        agreement: Agreement,
        reason: str,
        goals: list[Goal],
        cause: Cause,
    ) -> RecoveryPlan:
        plan = self._plan_of(patient_id)
        plan.revise(agreement, reason, goals, self.rules, self.today())
        self.commit(plan, cause=cause)
        return plan

    def review_recovery_goal(self, patient_id: UUID, review: Review, cause: Cause) -> RecoveryPlan:
        plan = self._plan_of(patient_id)
        plan.review_goal(review, self.rules, self.today())
        self.commit(plan, cause=cause)
        return plan

    def recovery_plan(self, patient_id: UUID) -> RecoveryPlan | None:
        """The plan of the patient's active case, if one was agreed."""
        case = self._active_case_of(patient_id)
        return None if case is None else self.find(RecoveryPlan.create_id(case.id))

    def handle_reviews_due(self, plan_ids: Iterable[UUID], now: datetime) -> int:
        """Record, once each, the goals of these plans whose review date has come."""
        today: date = self.rules.local_date(now)

        def handle(plan: RecoveryPlan) -> bool:
            case: Case = self.repository.get(plan.case_id)
            return not case.closed and plan.handle_reviews_due(
                today, case.case_manager_id, self.rules
            )

        return act_once_each(self, plan_ids, handle)

    def _case_to_plan(self, patient_id: UUID) -> Case:
        case = self._active_case_of(patient_id)
        if case is None:
            raise NotRecorded("no active case for this patient")
        return case

    def _plan_of(self, patient_id: UUID) -> RecoveryPlan:
        plan = self.recovery_plan(patient_id)
        if plan is None:
            raise NotRecorded("no recovery plan on the patient's active case")
        return plan
