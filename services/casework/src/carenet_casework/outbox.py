"""Casework's outbound mapper: cases, case managers and completed visits become public events.

Visit details beyond the classification (symptoms, notes, who was seen) stay in casework.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import CareTeam, Case, Family, RehabilitationSession
from carenet_contracts import VisitClassification, VisitMode
from carenet_contracts.casework import (
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    CaseManagerAssigned,
    CaseOpened,
    ConsentScope,
    FamilyConsentWithdrawn,
    FamilyMemberLinked,
    RehabilitationSessionAttended,
    SessionKind,
    VisitCompleted,
)
from carenet_contracts.common import CareTeamRole
from carenet_kit.outbox import Outgoing


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Case.Opened() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CaseOpened(
                    case_id=e.originator_id,
                    center_id=e.center_id,
                    first_visit_due=e.first_visit_due,
                ),
            )
        case Case.ManagerAssigned() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CaseManagerAssigned(
                    case_id=e.originator_id,
                    center_id=e.center_id,
                    case_manager_id=e.case_manager_id,
                    reason=e.reason,
                ),
            )
        case Case.VisitRecorded() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=datetime.combine(e.visited_on, datetime.min.time(), UTC),
                payload=VisitCompleted(
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
                ),
            )
        case (
            Case.ManagerReassigned()
            | CareTeam.Event()
            | Family.Event()
            | RehabilitationSession.Event()
        ):
            return _care_network(domain_event)
    return None


def _care_network(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    """Reassignments, the care team, family consent and rehabilitation attendance.

    A relative is only a pseudonymous member id here; a team's formation, a session's
    planning and moves between cases are internal (the members' joins and leaves say it).
    """
    match domain_event:
        case Case.ManagerReassigned() as e:
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
                occurred_at=datetime.combine(e.held_on, datetime.min.time(), UTC),
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
    return _team_and_family(domain_event)


def _team_and_family(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
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
                occurred_at=e.timestamp,
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
                occurred_at=e.timestamp,
                payload=FamilyConsentWithdrawn(
                    case_id=e.case_id, member_id=e.member_id, withdrawn_by=e.withdrawn_by
                ),
            )
    return None
