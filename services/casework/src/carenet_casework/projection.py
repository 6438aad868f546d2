"""Casework's read model: cases by id, patient, center and case manager, and what falls due;
care teams, relatives and rehabilitation sessions by patient. SQL tables in casework's own
store, kept by `carenet_kit.read_model_tables`: no case is held in memory between batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any, ClassVar
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
from carenet_kit.fields import copy_of
from carenet_kit.read_model_tables import Changes, SqlReadModel
from carenet_kit.sql_tables import Table


@dataclass
class VisitSummary:
    visit_id: UUID
    visited_on: date
    mode: str
    risk_level: int
    classification: str
    next_follow_up_due: date
    rule_set_version: str
    medication_adherence: str
    nonadherence_reason: str | None
    medication_guidance: str | None


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


def _follow_up_due(case: CaseView) -> date | None:
    """The follow-up deadline the scheduler watches, if the case has one (`Case` decides)."""
    return case.next_follow_up_due if case.status == ACTIVE and not case.lost_to_follow_up else None


def _anniversary_due(case: CaseView) -> date | None:
    """The next yearly check the scheduler watches, if the case is not closed."""
    return None if case.status == CLOSED else add_years(case.opened_on, case.years_checked + 1)


CASES = Table(
    "board_cases",
    CaseView,
    key=lambda c: c.case_id,
    columns={
        "patient_id": lambda c: c.patient_id,
        "center_id": lambda c: c.center_id,
        "case_manager_id": lambda c: c.case_manager_id,
        "follow_up_due": _follow_up_due,
        "anniversary_due": _anniversary_due,
    },
)


class CaseBoard(SqlReadModel):
    tables: ClassVar[Sequence[Table[Any]]] = (CASES,)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Case.Opened, changes: Changes) -> None:
        case = copy_of(CaseView, e, case_id=e.originator_id, next_follow_up_due=e.first_visit_due)
        changes.add(CASES, case)

    @apply.register
    def _(self, e: ManagerAssigned, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).case_manager_id = e.case_manager_id

    @apply.register
    def _(self, e: VisitRecorded, changes: Changes) -> None:
        case = changes.change(CASES, e.originator_id)
        case.next_follow_up_due = e.next_follow_up_due  # the case's, with the visit in its place
        if all(v.visited_on <= e.visited_on for v in case.visits):  # not entered late
            case.risk_level = e.risk_level
            case.consecutive_misses = 0
            case.lost_to_follow_up = False
        case.visits.append(copy_of(VisitSummary, e))

    @apply.register
    def _(self, e: FollowUpMissed, changes: Changes) -> None:
        case = changes.change(CASES, e.originator_id)
        case.next_follow_up_due = e.rescheduled_to
        case.consecutive_misses = e.consecutive_misses

    @apply.register
    def _(self, e: LostToFollowUp, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).lost_to_follow_up = True

    @apply.register
    def _(self, e: FollowUpMissWithdrawn, changes: Changes) -> None:
        case = changes.change(CASES, e.originator_id)
        case.consecutive_misses = max(0, case.consecutive_misses - 1)

    @apply.register
    def _(self, e: LostToFollowUpWithdrawn, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).lost_to_follow_up = False

    @apply.register
    def _(self, e: NextFollowUpRevised, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).next_follow_up_due = e.due_on

    @apply.register
    def _(self, e: YearChecked, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).years_checked += 1

    @apply.register
    def _(self, e: ReferralRequested, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).open_referral_id = e.referral_id

    @apply.register
    def _(self, e: ReferralWithdrawn | ReferralEnded, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).open_referral_id = None

    @apply.register
    def _(self, e: JointFollowUpScheduled, changes: Changes) -> None:
        case = changes.change(CASES, e.originator_id)
        case.open_referral_id = None
        case.next_follow_up_due = e.due_on

    @apply.register
    def _(self, e: Admitted, changes: Changes) -> None:
        self._stay(changes.change(CASES, e.originator_id), (e.admitted_on, 0))

    @apply.register
    def _(self, e: ResumedAfterDischarge, changes: Changes) -> None:
        case = changes.change(CASES, e.originator_id)
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
    def _(self, e: EmergencyRecorded, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).emergencies += 1

    @apply.register
    def _(self, e: Closed, changes: Changes) -> None:
        case = changes.change(CASES, e.originator_id)
        case.status = CLOSED
        case.closed_reason = e.reason

    def case(self, case_id: UUID) -> CaseView | None:
        return self.get(CASES, case_id)

    def find(
        self,
        patient_id: UUID | None = None,
        center_id: str | None = None,
        case_manager_id: str | None = None,
    ) -> list[CaseView]:
        return self.where(
            CASES, patient_id=patient_id, center_id=center_id, case_manager_id=case_manager_id
        )

    def falling_due(self, today: date) -> list[UUID]:
        """The cases with a deadline the scheduler must look at (`Case` decides)."""
        due = self.select(
            CASES, "follow_up_due < ? OR anniversary_due <= ?", [today.isoformat()] * 2
        )
        return [c.case_id for c in due]


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
class PatientRelative:
    patient_id: UUID
    relative: RelativeView


@dataclass
class Attendance:
    patient_id: UUID
    session_id: UUID


TEAMS = Table("board_teams", TeamView, key=lambda t: t.patient_id, columns={})
RELATIVES = Table(
    "board_relatives",
    PatientRelative,
    key=lambda r: (r.patient_id, r.relative.member_id),
    columns={"patient_id": lambda r: r.patient_id},
)
"""Per patient, every relative ever linked (latest consent), standing or withdrawn."""
SESSIONS = Table("board_sessions", SessionView, key=lambda s: s.session_id, columns={})
ATTENDANCE = Table(
    "board_attendance",
    Attendance,
    key=lambda a: (a.patient_id, a.session_id),
    columns={"patient_id": lambda a: a.patient_id},
)
"""Per patient, the sessions attended, in the order recorded."""


class CareBoard(CaseBoard):
    """The case board, plus each patient's care team, relatives and rehabilitation history."""

    tables: ClassVar[Sequence[Table[Any]]] = (CASES, TEAMS, RELATIVES, SESSIONS, ATTENDANCE)

    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        super().apply(domain_event, changes)
        self._apply_care(domain_event, changes)

    @singledispatchmethod
    def _apply_care(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this part of the read model does not need are ignored."""

    @_apply_care.register
    def _(self, e: ManagerReassigned, changes: Changes) -> None:
        changes.change(CASES, e.originator_id).case_manager_id = e.case_manager_id

    @_apply_care.register
    def _(self, e: CareTeam.Formed, changes: Changes) -> None:
        changes.add(TEAMS, TeamView(e.patient_id, e.case_id, e.center_id))

    @_apply_care.register
    def _(self, e: CareTeam.MovedToCase, changes: Changes) -> None:
        team = changes.change(TEAMS, e.patient_id)
        team.case_id, team.center_id = e.case_id, e.center_id

    @_apply_care.register
    def _(self, e: CareTeam.MemberJoined, changes: Changes) -> None:
        team = changes.change(TEAMS, e.patient_id)
        team.members.append(MemberView(e.member_id, e.role, e.timestamp))

    @_apply_care.register
    def _(self, e: CareTeam.MemberLeft, changes: Changes) -> None:
        team = changes.change(TEAMS, e.patient_id)
        team.members = [m for m in team.members if (m.member_id, m.role) != (e.member_id, e.role)]

    @_apply_care.register
    def _(self, e: Family.Linked, changes: Changes) -> None:
        relative = copy_of(RelativeView, e, linked_at=e.timestamp)
        changes.add(RELATIVES, PatientRelative(e.patient_id, relative))

    @_apply_care.register
    def _(self, e: Family.ConsentWithdrawn, changes: Changes) -> None:
        relative = changes.change(RELATIVES, (e.patient_id, e.member_id)).relative
        relative.withdrawn_at, relative.withdrawn_by = e.timestamp, e.withdrawn_by

    @_apply_care.register
    def _(self, e: RehabilitationSession.Held, changes: Changes) -> None:
        changes.add(SESSIONS, copy_of(SessionView, e, session_id=e.originator_id))

    @_apply_care.register
    def _(self, e: RehabilitationSession.Attended, changes: Changes) -> None:
        changes.change(SESSIONS, e.originator_id).attendees.append(e.patient_id)
        changes.add(ATTENDANCE, Attendance(e.patient_id, e.originator_id))

    def team(self, patient_id: UUID) -> TeamView | None:
        return self.get(TEAMS, patient_id)

    def family(self, patient_id: UUID) -> list[RelativeView]:
        return [r.relative for r in self.where(RELATIVES, patient_id=patient_id)]

    def session(self, session_id: UUID) -> SessionView | None:
        return self.get(SESSIONS, session_id)

    def sessions_of(self, patient_id: UUID) -> list[SessionView]:
        attended = self.where(ATTENDANCE, patient_id=patient_id)
        return [s for a in attended if (s := self.session(a.session_id)) is not None]

    def current_case(self, patient_id: UUID) -> CaseView | None:
        """The case the patient's team follows (after a transfer: the new center's)."""
        team = self.team(patient_id)
        return None if team is None else self.case(team.case_id)
