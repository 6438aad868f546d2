"""A patient's personal recovery plan: goals in life domains, agreed, reviewed and revised.

The case manager agrees the plan with the patient (and the family, within their consent), one
plan per case. Each goal says what the patient wants, the agreed steps, who helps and when it is
reviewed; a review records the progress (not started, in progress, achieved, dropped) and why.
A review recorded late takes its place in the history but never overrules a newer one. A goal
whose review date passes without a review falls due like a follow-up: the scheduler asks
`handle_reviews_due(today)`, and the plan records it once per goal and review date.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import RuleBroken
from carenet_casework.rules import RuleSet
from carenet_contracts.recovery import GoalProgress

PLAN_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:recovery-plan")
CLOSED_PROGRESS = (GoalProgress.ACHIEVED, GoalProgress.DROPPED)
"""A goal achieved or dropped is reviewed no more (a revision may set it again)."""
MAX_GOALS = 20


@dataclass(frozen=True)
class Goal:
    """One goal: what the patient wants, the steps agreed, who helps, and its next review."""

    goal_id: UUID
    domain: str
    wants: str
    steps: tuple[str, ...]
    helpers: tuple[str, ...]
    review_on: date | None
    """None once achieved or dropped."""
    shared_with_family: bool = False
    """The patient lets relatives whose consent covers `recovery_goals` see this goal."""
    progress: GoalProgress = GoalProgress.NOT_STARTED
    last_reviewed_on: date | None = None
    due_recorded_for: date | None = None
    """The review date whose passing was recorded (`ReviewFellDue`), once."""

    @property
    def open(self) -> bool:
        return self.progress not in CLOSED_PROGRESS

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.update(steps=list(self.steps), helpers=list(self.helpers))
        return record

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Goal:
        return cls(
            **(
                record
                | {
                    "steps": tuple(record["steps"]),
                    "helpers": tuple(record["helpers"]),
                    "progress": GoalProgress(record["progress"]),
                }
            )
        )


@dataclass(frozen=True)
class Agreement:
    """Who agreed the plan (or its revision), when, and whether the family took part."""

    by: str
    on: date
    family_took_part: bool


@dataclass(frozen=True)
class Review:
    goal_id: UUID
    reviewed_by: str
    reviewed_on: date
    progress: GoalProgress
    reason: str
    next_review_on: date | None


class RecoveryPlan(Aggregate):
    """One case's plan; `goals` is the plan in force, by goal id."""

    @staticmethod
    def create_id(case_id: UUID) -> UUID:
        return uuid5(PLAN_NAMESPACE, str(case_id))

    class Agreed(Aggregate.Created):
        patient_id: UUID
        case_id: UUID
        center_id: str
        agreed_by: str
        agreed_on: date
        family_took_part: bool
        goals: list[dict[str, Any]]
        rule_set_version: str

    @event(Agreed)
    def __init__(
        self,
        patient_id: UUID,
        case_id: UUID,
        center_id: str,
        agreed_by: str,
        agreed_on: date,
        family_took_part: bool,
        goals: list[dict[str, Any]],
        rule_set_version: str,
    ) -> None:
        self.patient_id = patient_id
        self.case_id = case_id
        self.center_id = center_id
        self.agreed_on = agreed_on
        self.last_agreed_on = agreed_on
        """The day of the agreement in force (the first, or the latest revision)."""
        self.revision = 1
        self.goals = {g.goal_id: g for g in map(Goal.of_record, goals)}
        self.reviews: list[Review] = []

    @classmethod
    def agree(
        cls,
        case: tuple[UUID, UUID, str, date],
        agreement: Agreement,
        goals: list[Goal],
        rules: RuleSet,
        today: date,
    ) -> RecoveryPlan:
        """A plan for `case` (case id, patient id, center id, the day it opened)."""
        case_id, patient_id, center_id, opened_on = case
        _check_day("agreed_on", agreement.on, opened_on, today)
        _check_goals(goals, agreement.on, rules)
        return cls(
            patient_id=patient_id,
            case_id=case_id,
            center_id=center_id,
            agreed_by=agreement.by,
            agreed_on=agreement.on,
            family_took_part=agreement.family_took_part,
            goals=[g.as_record() for g in goals],
            rule_set_version=rules.version,
        )

    # -- revising ---------------------------------------------------------------------------------

    class Revised(Aggregate.Event):
        patient_id: UUID
        case_id: UUID
        center_id: str
        revision: int
        revised_by: str
        revised_on: date
        family_took_part: bool
        reason: str
        goals: list[dict[str, Any]]
        rule_set_version: str

        def apply(self, plan: RecoveryPlan) -> None:
            plan.revision = self.revision
            plan.last_agreed_on = self.revised_on
            plan.goals = {g.goal_id: g for g in map(Goal.of_record, self.goals)}

    def revise(
        self, agreement: Agreement, reason: str, goals: list[Goal], rules: RuleSet, today: date
    ) -> None:
        """The whole plan again, every goal in it open: a goal kept (by id) keeps its progress
        and review history (one achieved or dropped is set again, in progress)."""
        _check_day("revised_on", agreement.on, self.agreed_on, today)
        if agreement.on < self.last_agreed_on:  # a late record never overrules a newer one
            raise RuleBroken("revised_on: must not be before the agreement in force")
        _check_goals(goals, agreement.on, rules)
        kept = [
            replace(
                g,
                progress=old.progress if old.open else GoalProgress.IN_PROGRESS,
                last_reviewed_on=old.last_reviewed_on,
                due_recorded_for=old.due_recorded_for if old.review_on == g.review_on else None,
            )
            if (old := self.goals.get(g.goal_id)) is not None
            else g
            for g in goals
        ]
        self.trigger_event(
            self.Revised,
            patient_id=self.patient_id,
            case_id=self.case_id,
            center_id=self.center_id,
            revision=self.revision + 1,
            revised_by=agreement.by,
            revised_on=agreement.on,
            family_took_part=agreement.family_took_part,
            reason=reason,
            goals=[g.as_record() for g in kept],
            rule_set_version=rules.version,
        )

    # -- reviewing --------------------------------------------------------------------------------

    class GoalReviewed(Aggregate.Event):
        patient_id: UUID
        case_id: UUID
        center_id: str
        goal_id: UUID
        domain: str
        reviewed_by: str
        reviewed_on: date
        progress: str
        reason: str
        next_review_on: date | None
        stands: bool
        """False for a review recorded after a newer one of the goal: history only."""

        def apply(self, plan: RecoveryPlan) -> None:
            review = Review(
                self.goal_id,
                self.reviewed_by,
                self.reviewed_on,
                GoalProgress(self.progress),
                self.reason,
                self.next_review_on,
            )
            plan.reviews.append(review)
            goal = plan.goals.get(self.goal_id)
            if goal is None or not self.stands:
                return
            plan.goals[self.goal_id] = replace(
                goal,
                progress=review.progress,
                review_on=self.next_review_on,
                last_reviewed_on=self.reviewed_on,
            )

    def review_goal(self, review: Review, rules: RuleSet, today: date) -> None:
        goal = self.goals.get(review.goal_id)
        if goal is None:
            raise RuleBroken("goal_id: not a goal of the plan in force")
        stands = (goal.last_reviewed_on or date.min) <= review.reviewed_on
        if not goal.open and stands:
            raise RuleBroken(f"goal_id: the goal is {goal.progress.value}; revise the plan first")
        _check_day("reviewed_on", review.reviewed_on, self.agreed_on, today)
        if not review.reason.strip():
            raise RuleBroken("reason: say why the goal stands where it does")
        closing = review.progress in CLOSED_PROGRESS
        if closing and review.next_review_on is not None:
            raise RuleBroken(f"next_review_on: none for a goal {review.progress.value}")
        if not closing:
            _check_review_date("next_review_on", review.next_review_on, review.reviewed_on, rules)
        self.trigger_event(
            self.GoalReviewed,
            patient_id=self.patient_id,
            case_id=self.case_id,
            center_id=self.center_id,
            goal_id=goal.goal_id,
            domain=goal.domain,
            reviewed_by=review.reviewed_by,
            reviewed_on=review.reviewed_on,
            progress=review.progress.value,
            reason=review.reason,
            next_review_on=review.next_review_on,
            stands=stands,
        )

    # -- reviews falling due ----------------------------------------------------------------------

    class ReviewFellDue(Aggregate.Event):
        patient_id: UUID
        case_id: UUID
        center_id: str
        case_manager_id: str | None
        due_on: date
        goal_ids: list[UUID]
        rule_set_version: str

        def apply(self, plan: RecoveryPlan) -> None:
            for goal_id in self.goal_ids:
                goal = plan.goals[goal_id]
                plan.goals[goal_id] = replace(goal, due_recorded_for=goal.review_on)

    @property
    def review_due(self) -> date | None:
        """The earliest review date of an open goal whose passing is not yet recorded."""
        return min(self._unrecorded_reviews(), default=None)

    def handle_reviews_due(self, today: date, case_manager_id: str | None, rules: RuleSet) -> bool:
        """Record the goals whose review date has come (on or before `today`), once."""
        due: dict[UUID, date] = {}
        for on, goals in self._unrecorded_reviews().items():
            if on <= today:
                due.update(dict.fromkeys(goals, on))
        if not due:
            return False
        self.trigger_event(
            self.ReviewFellDue,
            patient_id=self.patient_id,
            case_id=self.case_id,
            center_id=self.center_id,
            case_manager_id=case_manager_id,
            due_on=min(due.values()),
            goal_ids=list(due),
            rule_set_version=rules.version,
        )
        return True

    def _unrecorded_reviews(self) -> dict[date, list[UUID]]:
        """Open goals by review date, where that date's passing is not yet recorded."""
        by_date: dict[date, list[UUID]] = {}
        for g in self.goals.values():
            if g.open and g.review_on is not None and g.due_recorded_for != g.review_on:
                by_date.setdefault(g.review_on, []).append(g.goal_id)
        return by_date


def _check_day(field: str, day: date, not_before: date, today: date) -> None:
    """A day of the plan: not after today, not before the case (or the plan) began. The
    refusal names the field and the rule, never a date: dates of care are personal data."""
    if day > today:
        raise RuleBroken(f"{field}: must not be in the future")
    if day < not_before:
        raise RuleBroken(f"{field}: must not be before the case, or the plan, began")


def _check_goals(goals: list[Goal], on: date, rules: RuleSet) -> None:
    if not 1 <= len(goals) <= MAX_GOALS:
        raise RuleBroken(f"goals: between 1 and {MAX_GOALS}")
    if len({g.goal_id for g in goals}) != len(goals):
        raise RuleBroken("goals: a goal id appears twice")
    for g in goals:
        if g.domain not in rules.recovery.domains:
            raise RuleBroken(
                f"goals.domain: not a life domain of rule set {rules.version} "
                f"({', '.join(rules.recovery.domains)})"
            )
        _check_review_date("goals.review_on", g.review_on, on, rules)


def _check_review_date(field: str, review_on: date | None, set_on: date, rules: RuleSet) -> None:
    days = rules.recovery.review_within_days
    if review_on is None:
        raise RuleBroken(f"{field}: required while the goal is open")
    if not set_on < review_on <= set_on + timedelta(days=days):
        raise RuleBroken(
            f"{field}: must be after the day it is set and within {days} days of it "
            "(the rule set's review period)"
        )
