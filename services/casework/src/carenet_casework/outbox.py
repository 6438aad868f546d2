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
    RehabilitationSession,
    case_deadlines,
    case_referrals,
    case_visits,
)
from carenet_casework.domain.case import Closed, ManagerAssigned, ManagerReassigned
from carenet_contracts import Payload, VisitClassification, VisitMode
from carenet_contracts.casework import (
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ConsentScope,
    EmergencyKind,
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
    SessionKind,
    VisitCompleted,
)
from carenet_contracts.common import CareTeamRole, ReferralReason
from carenet_kit.application import OutboundMapper
from carenet_kit.outbox import Outgoing
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
    payload = _payload(domain_event)
    if payload is None:
        return None
    patient_id: UUID = domain_event.patient_id  # type: ignore[attr-defined]
    return Outgoing(patient_id, payload, _occurred_at(domain_event, rules))


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
            return CaseOpened(
                case_id=e.originator_id,
                center_id=e.center_id,
                first_visit_due=e.first_visit_due,
                transferred_from_case_id=e.transferred_from_case_id,
                contact_key=e.contact_key,
            )
        case ManagerAssigned() as e:
            return CaseManagerAssigned(
                case_id=e.originator_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                reason=e.reason,
            )
        case case_visits.VisitRecorded() as e:
            return VisitCompleted(
                case_id=e.originator_id,
                visit_id=e.visit_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                visited_on=e.visited_on,
                mode=VisitMode(e.mode),
                risk_level=e.risk_level,
                classification=VisitClassification(e.classification),
                next_follow_up_due=e.next_follow_up_due,
                rule_set_version=e.rule_set_version,
            )
        case case_referrals.ReferralRequested() as e:
            return ReferralRequested(
                referral_id=e.referral_id,
                case_id=e.originator_id,
                center_id=e.center_id,
                reason=ReferralReason(e.reason),
                risk_level=e.risk_level,
                rule_set_version=e.rule_set_version,
            )
        case case_referrals.ReferralWithdrawn() as e:
            return ReferralWithdrawn(
                referral_id=e.referral_id, case_id=e.originator_id, reason=e.reason
            )
        case (
            case_referrals.ResumedAfterDischarge()
            | case_referrals.JointFollowUpScheduled()
            | case_deadlines.NextFollowUpRevised()
        ):
            return _follow_up_scheduled(domain_event)
        case case_visits.EmergencyRecorded() as e:
            return EmergencyRecorded(
                emergency_id=e.emergency_id,
                case_id=e.originator_id,
                center_id=e.center_id,
                kind=EmergencyKind(e.kind),
                occurred_at=e.occurred_at,
                handled_by=e.handled_by,
                recorded_late=e.recorded_late,
                rule_set_version=e.rule_set_version,
            )
        case Closed() as e:
            return CaseClosed(
                case_id=e.originator_id,
                center_id=e.center_id,
                reason=e.reason,
                continued_by_case_id=e.continued_by_case_id,
            )
    return None


def _deadline(domain_event: DomainEventProtocol[UUID]) -> Payload | None:  # noqa: PLR0911
    """Missed follow-ups, lost to follow-up, their withdrawal, the yearly minimum."""
    match domain_event:
        case case_deadlines.FollowUpMissed(first_visit=True) as e:
            return FirstVisitOverdue(
                case_id=e.originator_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                due_on=e.due_on,
                rule_set_version=e.rule_set_version,
            )
        case case_deadlines.FollowUpMissed() as e:
            return FollowUpOverdue(
                case_id=e.originator_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                due_on=e.due_on,
                consecutive_misses=e.consecutive_misses,
                rescheduled_to=e.rescheduled_to,
                rule_set_version=e.rule_set_version,
            )
        case case_deadlines.LostToFollowUp() as e:
            return LostToFollowUp(
                case_id=e.originator_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                missed_due_dates=e.missed_due_dates,
                rule_set_version=e.rule_set_version,
            )
        case case_deadlines.FollowUpMissWithdrawn() as e:
            return FollowUpMissWithdrawn(
                case_id=e.originator_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                due_on=e.due_on,
                reason=e.reason,
                rule_set_version=e.rule_set_version,
            )
        case case_deadlines.LostToFollowUpWithdrawn() as e:
            return LostToFollowUpWithdrawn(
                case_id=e.originator_id,
                center_id=e.center_id,
                case_manager_id=e.case_manager_id,
                missed_due_dates=e.missed_due_dates,
                reason=e.reason,
                rule_set_version=e.rule_set_version,
            )
        case case_deadlines.YearRecounted(below_minimum=False) as e:
            return FollowUpsBelowYearlyMinimumWithdrawn(
                case_id=e.originator_id,
                center_id=e.center_id,
                year_from=e.year_from,
                year_to=e.year_to,
                follow_ups=e.follow_ups,
                required=e.required,
                reason=e.reason,
                rule_set_version=e.rule_set_version,
            )
        case (
            case_deadlines.YearChecked(below_minimum=True)
            | case_deadlines.YearRecounted(below_minimum=True) as e
        ):
            return FollowUpsBelowYearlyMinimum(
                case_id=e.originator_id,
                center_id=e.center_id,
                year_from=e.year_from,
                year_to=e.year_to,
                follow_ups=e.follow_ups,
                required=e.required,
                rule_set_version=e.rule_set_version,
            )
    return None


def _care_network(domain_event: DomainEventProtocol[UUID], rules: RuleSection) -> Outgoing | None:
    """Reassignments, the care team, family consent and rehabilitation attendance.

    A relative is only a pseudonymous member id here; a team's formation, a session's
    planning and moves between cases are internal (the members' joins and leaves say it).
    """
    match domain_event:
        case ManagerReassigned() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CaseManagerAssigned(
                    case_id=e.originator_id,
                    center_id=e.center_id,
                    case_manager_id=e.case_manager_id,
                    reason=e.reason,
                    previous_case_manager_id=e.previous_case_manager_id,
                ),
            )
        case RehabilitationSession.Attended() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=rules.start_of(e.held_on),
                payload=RehabilitationSessionAttended(
                    session_id=e.originator_id,
                    center_id=e.center_id,
                    kind=SessionKind(e.kind),
                    topic=e.topic,
                    held_on=e.held_on,
                    duration_minutes=e.duration_minutes,
                    facilitator_id=e.facilitator_id,
                ),
            )
    return _team_and_family(domain_event, rules)


def _team_and_family(
    domain_event: DomainEventProtocol[UUID], rules: RuleSection
) -> Outgoing | None:
    match domain_event:
        case CareTeam.MemberJoined() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CareTeamMemberJoined(
                    case_id=e.case_id, member_id=e.member_id, role=CareTeamRole(e.role)
                ),
            )
        case CareTeam.MemberLeft() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CareTeamMemberLeft(
                    case_id=e.case_id,
                    member_id=e.member_id,
                    role=CareTeamRole(e.role),
                    reason=e.reason,
                ),
            )
        case Family.Linked() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=_on_day(e.given_on, e.timestamp, rules),
                payload=FamilyMemberLinked(
                    case_id=e.case_id,
                    member_id=e.member_id,
                    relationship=e.relationship,
                    is_guardian=e.is_guardian,
                    consent_given_by=e.given_by,
                    scope=ConsentScope(may_see=e.may_see, notified_of=e.notified_of),
                ),
            )
        case Family.ConsentWithdrawn() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=_on_day(e.withdrawn_on, e.timestamp, rules),
                payload=FamilyConsentWithdrawn(
                    case_id=e.case_id, member_id=e.member_id, withdrawn_by=e.withdrawn_by
                ),
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
    return FollowUpScheduled(
        case_id=e.originator_id,
        center_id=e.center_id,
        due_on=e.due_on,
        reason=reason,
        rule_set_version=e.rule_set_version,
    )
