"""Casework's read model: cases by id, patient, center and case manager, and what falls due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import CareTeam, Case, Family, RehabilitationSession
from carenet_casework.domain.case import Closed, ManagerAssigned, ManagerReassigned
from carenet_casework.domain.case_deadlines import (
    FollowUpMissed,
    FollowUpMissWithdrawn,
    LostToFollowUp,
    LostToFollowUpWithdrawn,
    NextFollowUpRevised,
    YearChecked,
)
from carenet_casework.domain.case_file import ACTIVE, CLOSED, IN_HOSPITAL, add_years
from carenet_casework.domain.case_referrals import (
    Admitted,
    JointFollowUpScheduled,
    ReferralEnded,
    ReferralRequested,
    ReferralWithdrawn,
    ResumedAfterDischarge,
)
from carenet_casework.domain.case_visits import EmergencyRecorded, VisitRecorded


@dataclass
class VisitSummary:
    visit_id: UUID
    visited_on: date
    mode: str
    risk_level: int
    classification: str
    next_follow_up_due: date
    rule_set_version: str


@dataclass
class CaseView:
    case_id: UUID
    patient_id: UUID
    center_id: str
    category: str
    risk_level: int
    next_follow_up_due: date
    opened_on: date
    transferred_from_case_id: UUID | None
    status: str = ACTIVE
    case_manager_id: str | None = None
    closed_reason: str | None = None
    consecutive_misses: int = 0
    lost_to_follow_up: bool = False
    years_checked: int = 0
    open_referral_id: UUID | None = None
    emergencies: int = 0
    visits: list[VisitSummary] = field(default_factory=list)
    latest_stay: tuple[date, int] | None = None
    """The latest admission (0) or discharge (1) by the day it happened (a discharge follows a
    same-day admission): the case's status."""

    def falls_due_by(self, today: date) -> bool:
        """Whether the case has a deadline the scheduler must look at (`Case` decides)."""
        follow_up = self.status == ACTIVE and not self.lost_to_follow_up
        if follow_up and self.next_follow_up_due < today:
            return True
        return self.status != CLOSED and add_years(self.opened_on, self.years_checked + 1) <= today


@dataclass
class CaseBoard:
    cases: dict[UUID, CaseView] = field(default_factory=dict)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Case.Opened) -> None:
        self.cases[e.originator_id] = CaseView(
            case_id=e.originator_id,
            patient_id=e.patient_id,
            center_id=e.center_id,
            category=e.category,
            risk_level=e.risk_level,
            next_follow_up_due=e.first_visit_due,
            opened_on=e.opened_on,
            transferred_from_case_id=e.transferred_from_case_id,
        )

    @apply.register
    def _(self, e: ManagerAssigned) -> None:
        self.cases[e.originator_id].case_manager_id = e.case_manager_id

    @apply.register
    def _(self, e: VisitRecorded) -> None:
        case = self.cases[e.originator_id]
        case.next_follow_up_due = e.next_follow_up_due  # the case's, with the visit in its place
        if all(v.visited_on <= e.visited_on for v in case.visits):  # not entered late
            case.risk_level = e.risk_level
            case.consecutive_misses = 0
            case.lost_to_follow_up = False
        case.visits.append(
            VisitSummary(
                visit_id=e.visit_id,
                visited_on=e.visited_on,
                mode=e.mode,
                risk_level=e.risk_level,
                classification=e.classification,
                next_follow_up_due=e.next_follow_up_due,
                rule_set_version=e.rule_set_version,
            )
        )

    @apply.register
    def _(self, e: FollowUpMissed) -> None:
        case = self.cases[e.originator_id]
        case.next_follow_up_due = e.rescheduled_to
        case.consecutive_misses = e.consecutive_misses

    @apply.register
    def _(self, e: LostToFollowUp) -> None:
        self.cases[e.originator_id].lost_to_follow_up = True

    @apply.register
    def _(self, e: FollowUpMissWithdrawn) -> None:
        case = self.cases[e.originator_id]
        case.consecutive_misses = max(0, case.consecutive_misses - 1)

    @apply.register
    def _(self, e: LostToFollowUpWithdrawn) -> None:
        self.cases[e.originator_id].lost_to_follow_up = False

    @apply.register
    def _(self, e: NextFollowUpRevised) -> None:
        self.cases[e.originator_id].next_follow_up_due = e.due_on

    @apply.register
    def _(self, e: YearChecked) -> None:
        self.cases[e.originator_id].years_checked += 1

    @apply.register
    def _(self, e: ReferralRequested) -> None:
        self.cases[e.originator_id].open_referral_id = e.referral_id

    @apply.register
    def _(self, e: ReferralWithdrawn | ReferralEnded) -> None:
        self.cases[e.originator_id].open_referral_id = None

    @apply.register
    def _(self, e: JointFollowUpScheduled) -> None:
        case = self.cases[e.originator_id]
        case.open_referral_id = None
        case.next_follow_up_due = e.due_on

    @apply.register
    def _(self, e: Admitted) -> None:
        self._stay(self.cases[e.originator_id], (e.admitted_on, 0))

    @apply.register
    def _(self, e: ResumedAfterDischarge) -> None:
        case = self.cases[e.originator_id]
        case.next_follow_up_due = e.due_on
        case.open_referral_id = None
        if self._stay(case, (e.discharged_on, 1)):
            case.consecutive_misses = 0
            case.lost_to_follow_up = False

    @staticmethod
    def _stay(case: CaseView, stay: tuple[date, int]) -> bool:
        """Status follows the admission or discharge that happened last; False if it is older."""
        if case.latest_stay is not None and stay < case.latest_stay:
            return False
        case.latest_stay = stay
        if case.status != CLOSED:
            case.status = ACTIVE if stay[1] else IN_HOSPITAL
        return True

    @apply.register
    def _(self, e: EmergencyRecorded) -> None:
        self.cases[e.originator_id].emergencies += 1

    @apply.register
    def _(self, e: Closed) -> None:
        case = self.cases[e.originator_id]
        case.status = CLOSED
        case.closed_reason = e.reason

    def case(self, case_id: UUID) -> CaseView | None:
        return self.cases.get(case_id)

    def find(
        self,
        patient_id: UUID | None = None,
        center_id: str | None = None,
        case_manager_id: str | None = None,
    ) -> list[CaseView]:
        return [
            c
            for c in self.cases.values()
            if (patient_id is None or c.patient_id == patient_id)
            and (center_id is None or c.center_id == center_id)
            and (case_manager_id is None or c.case_manager_id == case_manager_id)
        ]

    def falling_due(self, today: date) -> list[UUID]:
        """Called from the scheduler's thread: `list()` copies the cases in one step."""
        return [c.case_id for c in list(self.cases.values()) if c.falls_due_by(today)]


# ---- Care teams, family consents and rehabilitation sessions ----


@dataclass
class MemberView:
    member_id: str
    role: str
    joined_at: datetime


@dataclass
class TeamView:
    patient_id: UUID
    case_id: UUID
    center_id: str
    members: list[MemberView] = field(default_factory=list)


@dataclass
class RelativeView:
    member_id: str
    relationship: str
    is_guardian: bool
    given_by: str
    may_see: list[str]
    notified_of: list[str]
    linked_at: datetime
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None


@dataclass
class SessionView:
    session_id: UUID
    center_id: str
    kind: str
    topic: str
    held_on: date
    duration_minutes: int
    facilitator_id: str
    attendees: list[UUID] = field(default_factory=list)


@dataclass
class CareBoard(CaseBoard):
    """The case board, plus each patient's care team, relatives and rehabilitation history."""

    teams: dict[UUID, TeamView] = field(default_factory=dict)
    relatives: dict[UUID, dict[str, RelativeView]] = field(default_factory=dict)
    """Per patient, every relative ever linked (latest consent), standing or withdrawn."""
    sessions: dict[UUID, SessionView] = field(default_factory=dict)
    attended: dict[UUID, list[UUID]] = field(default_factory=dict)
    """Per patient, the sessions attended, in the order recorded."""

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        super().apply(domain_event)
        self._apply_care(domain_event)

    @singledispatchmethod
    def _apply_care(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this part of the read model does not need are ignored."""

    @_apply_care.register
    def _(self, e: ManagerReassigned) -> None:
        self.cases[e.originator_id].case_manager_id = e.case_manager_id

    @_apply_care.register
    def _(self, e: CareTeam.Formed) -> None:
        self.teams[e.patient_id] = TeamView(e.patient_id, e.case_id, e.center_id)

    @_apply_care.register
    def _(self, e: CareTeam.MovedToCase) -> None:
        team = self.teams[e.patient_id]
        team.case_id, team.center_id = e.case_id, e.center_id

    @_apply_care.register
    def _(self, e: CareTeam.MemberJoined) -> None:
        self.teams[e.patient_id].members.append(MemberView(e.member_id, e.role, e.timestamp))

    @_apply_care.register
    def _(self, e: CareTeam.MemberLeft) -> None:
        team = self.teams[e.patient_id]
        team.members = [m for m in team.members if (m.member_id, m.role) != (e.member_id, e.role)]

    @_apply_care.register
    def _(self, e: Family.Linked) -> None:
        self.relatives.setdefault(e.patient_id, {})[e.member_id] = RelativeView(
            member_id=e.member_id,
            relationship=e.relationship,
            is_guardian=e.is_guardian,
            given_by=e.given_by,
            may_see=e.may_see,
            notified_of=e.notified_of,
            linked_at=e.timestamp,
        )

    @_apply_care.register
    def _(self, e: Family.ConsentWithdrawn) -> None:
        relative = self.relatives[e.patient_id][e.member_id]
        relative.withdrawn_at, relative.withdrawn_by = e.timestamp, e.withdrawn_by

    @_apply_care.register
    def _(self, e: RehabilitationSession.Held) -> None:
        self.sessions[e.originator_id] = SessionView(
            session_id=e.originator_id,
            center_id=e.center_id,
            kind=e.kind,
            topic=e.topic,
            held_on=e.held_on,
            duration_minutes=e.duration_minutes,
            facilitator_id=e.facilitator_id,
        )

    @_apply_care.register
    def _(self, e: RehabilitationSession.Attended) -> None:
        self.sessions[e.originator_id].attendees.append(e.patient_id)
        self.attended.setdefault(e.patient_id, []).append(e.originator_id)

    def team(self, patient_id: UUID) -> TeamView | None:
        return self.teams.get(patient_id)

    def family(self, patient_id: UUID) -> list[RelativeView]:
        return list(self.relatives.get(patient_id, {}).values())

    def session(self, session_id: UUID) -> SessionView | None:
        return self.sessions.get(session_id)

    def sessions_of(self, patient_id: UUID) -> list[SessionView]:
        return [self.sessions[s] for s in self.attended.get(patient_id, [])]

    def current_case(self, patient_id: UUID) -> CaseView | None:
        """The case the patient's team follows (after a transfer: the new center's)."""
        team = self.teams.get(patient_id)
        return None if team is None else self.cases.get(team.case_id)
