"""Casework's outbound mapper: which case events become public, and what they carry.

Visit details beyond the classification (symptoms, medication, notes, who was seen) and the
handling of an emergency stay in casework. A record dated by its day happened at the start of
that day where the rules apply (the rule set's time zone).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEventProtocol

from carenet_casework.domain import (
    CareTeam,
    Case,
    Family,
    RecoveryPlan,
    RehabilitationSession,
    Screening,
    SocialReferral,
    case_deadlines,
    case_referrals,
    case_visits,
)
from carenet_casework.domain.case import Closed, ManagerAssigned, ManagerReassigned
from carenet_contracts import Payload
from carenet_contracts.casework import (
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ConsentScope,
    EmergencyRecorded,
    FamilyConsentWithdrawn,
    FamilyMemberLinked,
    FirstVisitOverdue,
    FollowUpMissWithdrawn,
    FollowUpOverdue,
    FollowUpsBelowYearlyMinimum,
    FollowUpsBelowYearlyMinimumWithdrawn,
    FollowUpScheduled,
    LostToFollowUp,
    LostToFollowUpWithdrawn,
    ReferralRequested,
    ReferralWithdrawn,
    RehabilitationSessionAttended,
    VisitCompleted,
)
from carenet_contracts.recovery import (
    AssessedBy,
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
from carenet_kit.application import OutboundMapper
from carenet_kit.outbox import Outgoing, contract_payload
from carenet_kit.rule_set import RuleSection


def integration_events(rules: RuleSection) -> OutboundMapper:
    """The outbound mapper under the rule set in force."""
    return partial(to_integration_event, rules=rules)


def to_integration_event(
    domain_event: DomainEventProtocol[UUID], rules: RuleSection
) -> Outgoing | None:
    match domain_event:
        case (
            ManagerReassigned() | CareTeam.Event() | Family.Event() | RehabilitationSession.Event()
        ):
            return _care_network(domain_event, rules)
        case Screening.Completed() as e:
            return _screened(e)
        case RecoveryPlan.Event():
            return _recovery(domain_event, rules)
        case SocialReferral.Event():
            return _social_referral(domain_event, rules)
    payload = _payload(domain_event)
    if payload is None:
        return None
    patient_id: UUID = domain_event.patient_id  # type: ignore[attr-defined]
    return Outgoing(patient_id, payload, _occurred_at(domain_event, rules))


def _screened(e: Screening.Completed) -> Outgoing | None:
    """A patient's screening, without its answers; a resident's stays in casework."""
    if e.patient_id is None:
        return None
    assessed_by = AssessedBy(provider=e.provider, model=e.model, version=e.provider_version)
    return Outgoing.of(e, contract_payload(ScreeningCompleted, e, assessed_by=assessed_by))


def _recovery(domain_event: RecoveryPlan.Event, rules: RuleSection) -> Outgoing | None:
    """The plan's goals by domain, review date and progress; its words stay in casework."""
    match domain_event:
        case RecoveryPlan.Agreed() as e:
            agreed = contract_payload(
                RecoveryPlanAgreed, e, plan_id=e.originator_id, goals=_outlines(e.goals)
            )
            return Outgoing.of(e, agreed, occurred_at=_on_day(e.agreed_on, e.timestamp, rules))
        case RecoveryPlan.Revised() as e:
            revised = contract_payload(
                RecoveryPlanRevised, e, plan_id=e.originator_id, goals=_outlines(e.goals)
            )
            return Outgoing.of(e, revised, occurred_at=_on_day(e.revised_on, e.timestamp, rules))
        case RecoveryPlan.GoalReviewed() as e:
            reviewed = contract_payload(RecoveryGoalReviewed, e, plan_id=e.originator_id)
            return Outgoing.of(e, reviewed, occurred_at=_on_day(e.reviewed_on, e.timestamp, rules))
        case RecoveryPlan.ReviewFellDue() as e:
            due = contract_payload(RecoveryReviewDue, e, plan_id=e.originator_id)
            return Outgoing.of(e, due, occurred_at=rules.start_of(e.due_on + timedelta(days=1)))
    return None


SOCIAL_SERVICE_STEPS: dict[type[SocialReferral.Event], tuple[type[Payload], str]] = {
    SocialReferral.Referred: (SocialServiceReferred, "referred_on"),
    SocialReferral.Accepted: (SocialServiceAccepted, "accepted_on"),
    SocialReferral.Declined: (SocialServiceDeclined, "declined_on"),
    SocialReferral.Started: (SocialServiceStarted, "started_on"),
    SocialReferral.Ended: (SocialServiceEnded, "ended_on"),
}
"""Each step of a social referral: its contract, and the field with the day it happened."""


def _social_referral(e: SocialReferral.Event, rules: RuleSection) -> Outgoing:
    """Who was referred where, for what, and each step; the words and contact stay here."""
    contract, day = SOCIAL_SERVICE_STEPS[type(e)]
    payload = contract_payload(contract, e, referral_id=e.originator_id)
    return Outgoing.of(e, payload, occurred_at=_on_day(getattr(e, day), e.timestamp, rules))


def _outlines(goals: list[dict[str, object]]) -> list[GoalOutline]:
    return [GoalOutline.model_validate(goal) for goal in goals]


def _occurred_at(domain_event: DomainEventProtocol[UUID], rules: RuleSection) -> datetime:
    """When it happened in the world, where the event says so; else when it was recorded."""
    match domain_event:
        case case_visits.VisitRecorded() as e:
            return rules.start_of(e.visited_on)
        case case_deadlines.FollowUpMissed() as e:
            return rules.start_of(e.due_on + timedelta(days=1))  # the due day has passed
        case case_deadlines.YearChecked() as e:
            return rules.start_of(e.year_to)
        case case_visits.EmergencyRecorded() as e:
            return e.occurred_at
    assert isinstance(domain_event, Aggregate.Event)
    return domain_event.timestamp


def _on_day(day: date, recorded: datetime, rules: RuleSection) -> datetime:
    """When a record dated `day` happened: the moment it was recorded if that was on the day,
    else the start of that (earlier) day."""
    return recorded if rules.local_date(recorded) == day else rules.start_of(day)


def _payload(domain_event: DomainEventProtocol[UUID]) -> Payload | None:  # noqa: PLR0911
    if (deadline := _deadline(domain_event)) is not None:
        return deadline
    match domain_event:
        case Case.Opened() as e:
            return contract_payload(CaseOpened, e, case_id=e.originator_id)
        case ManagerAssigned() as e:
            return contract_payload(CaseManagerAssigned, e, case_id=e.originator_id)
        case case_visits.VisitRecorded() as e:
            guidance = e.medication_guidance
            return contract_payload(
                VisitCompleted,
                e,
                case_id=e.originator_id,
                medication_guidance_given=None if guidance is None else bool(guidance),
            )
        case case_referrals.ReferralRequested() as e:
            return contract_payload(ReferralRequested, e, case_id=e.originator_id)
        case case_referrals.ReferralWithdrawn() as e:
            return contract_payload(ReferralWithdrawn, e, case_id=e.originator_id)
        case (
            case_referrals.ResumedAfterDischarge()
            | case_referrals.JointFollowUpScheduled()
            | case_deadlines.NextFollowUpRevised()
        ):
            return _follow_up_scheduled(domain_event)
        case case_visits.EmergencyRecorded() as e:
            return contract_payload(EmergencyRecorded, e, case_id=e.originator_id)
        case Closed() as e:
            return contract_payload(CaseClosed, e, case_id=e.originator_id)
    return None


def _deadline(domain_event: DomainEventProtocol[UUID]) -> Payload | None:
    """Missed follow-ups, lost to follow-up, their withdrawal, the yearly minimum."""
    match domain_event:
        case case_deadlines.FollowUpMissed(first_visit=True):
            contract: type[Payload] = FirstVisitOverdue
        case case_deadlines.FollowUpMissed():
            contract = FollowUpOverdue
        case case_deadlines.LostToFollowUp():
            contract = LostToFollowUp
        case case_deadlines.FollowUpMissWithdrawn():
            contract = FollowUpMissWithdrawn
        case case_deadlines.LostToFollowUpWithdrawn():
            contract = LostToFollowUpWithdrawn
        case case_deadlines.YearRecounted(below_minimum=False):
            contract = FollowUpsBelowYearlyMinimumWithdrawn
        case (
            case_deadlines.YearChecked(below_minimum=True)
            | case_deadlines.YearRecounted(below_minimum=True)
        ):
            contract = FollowUpsBelowYearlyMinimum
        case _:
            return None
    return contract_payload(contract, domain_event, case_id=domain_event.originator_id)


def _care_network(  # noqa: PLR0911
    domain_event: DomainEventProtocol[UUID], rules: RuleSection
) -> Outgoing | None:
    """Reassignments, the care team, family consent and rehabilitation attendance.

    A relative is only a pseudonymous member id here; a team's formation, a session's
    planning and moves between cases are internal (the members' joins and leaves say it).
    """
    match domain_event:
        case ManagerReassigned() as e:
            assigned = contract_payload(CaseManagerAssigned, e, case_id=e.originator_id)
            return Outgoing.of(e, assigned)
        case RehabilitationSession.Attended() as e:
            attended = contract_payload(
                RehabilitationSessionAttended, e, session_id=e.originator_id
            )
            return Outgoing.of(e, attended, occurred_at=rules.start_of(e.held_on))
        case CareTeam.MemberJoined() as e:
            return Outgoing.of(e, contract_payload(CareTeamMemberJoined, e))
        case CareTeam.MemberLeft() as e:
            return Outgoing.of(e, contract_payload(CareTeamMemberLeft, e))
        case Family.Linked() as e:
            scope = ConsentScope(may_see=e.may_see, notified_of=e.notified_of)
            linked = contract_payload(
                FamilyMemberLinked, e, consent_given_by=e.given_by, scope=scope
            )
            return Outgoing.of(e, linked, occurred_at=_on_day(e.given_on, e.timestamp, rules))
        case Family.ConsentWithdrawn() as e:
            withdrawn = contract_payload(FamilyConsentWithdrawn, e)
            return Outgoing.of(
                e, withdrawn, occurred_at=_on_day(e.withdrawn_on, e.timestamp, rules)
            )
    return None


def _follow_up_scheduled(
    e: case_referrals.ResumedAfterDischarge
    | case_referrals.JointFollowUpScheduled
    | case_deadlines.NextFollowUpRevised,
) -> FollowUpScheduled:
    if isinstance(e, case_referrals.ResumedAfterDischarge):
        reason = f"discharged from hospital on {e.discharged_on}"
    elif isinstance(e, case_deadlines.NextFollowUpRevised):
        reason = f"moved from {e.previous_due_on}: {e.reason}"
    else:
        reason = (
            f"the referral ended without an admission ({e.outcome}): joint follow-up "
            "with the psychiatrist, the neighbourhood committee and the police"
        )
    return contract_payload(FollowUpScheduled, e, case_id=e.originator_id, reason=reason)
