"""The recovery side of a history in words: medication at a visit, screenings, the personal
recovery plan (its goals by life domain; their words stay in casework), referrals to social
services (who, what, each step; what the patient seeks stays in casework)."""

from __future__ import annotations

from carenet_contracts import Payload
from carenet_contracts.casework import VisitCompleted
from carenet_contracts.recovery import (
    GoalOutline,
    RecoveryGoalReviewed,
    RecoveryPlanAgreed,
    RecoveryPlanRevised,
    RecoveryReviewDue,
    ScreeningCompleted,
)
from carenet_contracts.social import (
    SocialServiceAccepted,
    SocialServiceDeclined,
    SocialServiceEnded,
    SocialServiceReferred,
    SocialServiceStarted,
)


def medication(visit: VisitCompleted) -> str:
    """What a visit found about the medication, in words."""
    taken = visit.medication_adherence.value.replace("_", " ")
    if visit.nonadherence_reason is not None:
        taken += f" ({visit.nonadherence_reason.value.replace('_', ' ')})"
    if visit.medication_guidance_given:
        taken += ", guidance given"
    return f"medication {taken}"


def recovery_summary(data: Payload) -> str | None:
    """One line for a screening or a recovery plan's event; None for any other."""
    match data:
        case ScreeningCompleted():
            return _screened(data)
        case RecoveryPlanAgreed():
            family = " with the family" if data.family_took_part else ""
            return f"Recovery plan agreed{family}: {_goals(data.goals)}"
        case RecoveryPlanRevised():
            return f"Recovery plan revised (revision {data.revision}): {_goals(data.goals)}"
        case RecoveryGoalReviewed():
            progress = data.progress.value.replace("_", " ")
            then = f"; next review {data.next_review_on}" if data.next_review_on else ""
            return f"Recovery goal ({_domain(data.domain)}) reviewed: {progress}{then}"
        case RecoveryReviewDue():
            return f"{len(data.goal_ids)} recovery goal(s) fell due for review on {data.due_on}"
    return _social_service(data)


def _social_service(data: Payload) -> str | None:
    match data:
        case SocialServiceReferred():
            shared = ", ".join(data.shares) or "no contact details"
            return (
                f"Referred to {data.partner_id} for {_words(data.service)}, with the patient's "
                f"consent of {data.consented_on} (shares {shared})"
            )
        case SocialServiceAccepted():
            return f"{data.partner_id} accepted the referral for {_words(data.service)}"
        case SocialServiceDeclined():
            return f"{data.partner_id} declined the referral ({_words(data.reason)})"
        case SocialServiceStarted():
            return f"{_words(data.service).capitalize()} at {data.partner_id} began"
        case SocialServiceEnded():
            return f"{_words(data.service).capitalize()} at {data.partner_id} ended: " + _words(
                data.outcome
            )
    return None


def _words(code: str) -> str:
    return code.replace("_", " ")


def recovery_actor(data: Payload) -> str | None:  # noqa: PLR0911 - one answer per event
    """Who agreed, revised or reviewed the plan; who referred, or the partner's staff who
    answered, started or ended a referral; None for any other event."""
    match data:
        case RecoveryPlanAgreed():
            return data.agreed_by
        case RecoveryPlanRevised():
            return data.revised_by
        case RecoveryGoalReviewed():
            return data.reviewed_by
        case SocialServiceReferred():
            return data.referred_by
        case SocialServiceAccepted():
            return data.accepted_by
        case SocialServiceDeclined():
            return data.declined_by
        case SocialServiceStarted():
            return data.started_by
        case SocialServiceEnded():
            return data.ended_by
    return None


def _screened(screening: ScreeningCompleted) -> str:
    urgent = "; thoughts of self-harm reported" if screening.urgent else ""
    return (
        f"{screening.instrument.value.upper()} screening on {screening.screened_on}: score "
        f"{screening.total_score}, {screening.band.value.replace('_', ' ')}{urgent} "
        f"(scored by {screening.assessed_by.provider}/{screening.assessed_by.model})"
    )


def _goals(goals: list[GoalOutline]) -> str:
    return "; ".join(
        f"{_domain(g.domain)} ({g.progress.value.replace('_', ' ')}, review {g.review_on})"
        for g in goals
    )


def _domain(domain: str) -> str:
    return domain.replace("_", " ")
