"""The personal recovery plan as FHIR: a `CarePlan` (category recovery) whose goals are `Goal`
resources in their life domain, each with its review date as the target's due date and its
progress as the achievement status. The goals' words stay in casework; a goal taken out of the
plan by a revision is cancelled."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from carenet_audit_tool.fhir.export import coded, text
from carenet_audit_tool.fhir.pathway import Pathway, Ref, day, episode_ref, maps, ref_of
from carenet_contracts import Envelope
from carenet_contracts.recovery import (
    GoalOutline,
    GoalProgress,
    RecoveryGoalReviewed,
    RecoveryPlanAgreed,
    RecoveryPlanRevised,
    RecoveryReviewDue,
)

ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
STATUS = {
    GoalProgress.NOT_STARTED: ("accepted", None),
    GoalProgress.IN_PROGRESS: ("active", "in-progress"),
    GoalProgress.ACHIEVED: ("completed", "achieved"),
    GoalProgress.DROPPED: ("cancelled", "not-achieved"),
}
"""A goal's progress: its lifecycle status and achievement status (HL7's code systems)."""


@maps(RecoveryPlanAgreed)
def agreed(p: Pathway, e: Envelope[Any], d: RecoveryPlanAgreed) -> list[Ref]:
    return _plan(p, d.plan_id, d.case_id, d.center_id, d.agreed_on, d.goals)


@maps(RecoveryPlanRevised)
def revised(p: Pathway, e: Envelope[Any], d: RecoveryPlanRevised) -> list[Ref]:
    kept = [p.ref("Goal", "recovery-goal", str(g.goal_id)) for g in d.goals]
    plan = p.resource("CarePlan", "recovery-plan", str(d.plan_id))
    cancelled = [goal for goal in plan.get("goal", []) if goal not in kept]
    for goal in cancelled:
        p.referenced(goal)["lifecycleStatus"] = "cancelled"
    return _plan(p, d.plan_id, d.case_id, d.center_id, d.revised_on, d.goals) + cancelled


@maps(RecoveryGoalReviewed)
def reviewed(p: Pathway, e: Envelope[Any], d: RecoveryGoalReviewed) -> list[Ref]:
    _goal(p, d.goal_id, d.domain, d.progress, d.next_review_on)["statusDate"] = day(d.reviewed_on)
    return [ref_of(p, "Goal", "recovery-goal", d.goal_id)]


@maps(RecoveryReviewDue)
def review_due(p: Pathway, e: Envelope[Any], d: RecoveryReviewDue) -> list[Ref]:
    for goal_id in d.goal_ids:
        goal = p.resource("Goal", "recovery-goal", str(goal_id))
        goal["statusReason"] = f"review due since {day(d.due_on)}"
    return [ref_of(p, "Goal", "recovery-goal", goal_id) for goal_id in d.goal_ids]


def _plan(
    p: Pathway, plan_id: UUID, case_id: UUID, center_id: str, on: date, goals: list[GoalOutline]
) -> list[Ref]:
    for g in goals:
        _goal(p, g.goal_id, g.domain, g.progress, g.review_on).setdefault("startDate", day(on))
    plan = p.resource("CarePlan", "recovery-plan", str(plan_id))
    plan.update(
        status="active",
        intent="plan",
        category=[coded("care-plan-category", "recovery", "Personal recovery plan")],
        subject=p.patient,
        author=p.organisation(center_id),
        created=plan.get("created", day(on)),
        goal=[p.ref("Goal", "recovery-goal", str(g.goal_id)) for g in goals],
        supportingInfo=[episode_ref(p, case_id)],
    )
    goal_refs = [ref_of(p, "Goal", "recovery-goal", g.goal_id) for g in goals]
    return [ref_of(p, "CarePlan", "recovery-plan", plan_id), *goal_refs]


def _goal(
    p: Pathway, goal_id: UUID, domain: str, progress: GoalProgress, due: date | None
) -> dict[str, Any]:
    lifecycle, achievement = STATUS[progress]
    goal = p.resource("Goal", "recovery-goal", str(goal_id))
    goal.update(
        lifecycleStatus=lifecycle,
        category=[coded("life-domain", domain, domain.replace("_", " "))],
        description=text(f"Recovery goal: {domain.replace('_', ' ')}"),
        subject=p.patient,
    )
    if achievement is not None:
        goal["achievementStatus"] = {"coding": [{"system": ACHIEVEMENT, "code": achievement}]}
    goal.pop("target", None)
    if due is not None:
        goal["target"] = [{"dueDate": day(due)}]
    return goal
