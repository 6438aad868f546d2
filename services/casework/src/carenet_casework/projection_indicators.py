"""The read model's facts for the network's indicators: one row per case, with what the figures
are counted from, each dated by the day it happened (`indicators` counts them as of any day).

A record entered late takes its place by its date, and a withdrawn miss or lost-to-follow-up
leaves the facts, so the same events always give the same facts: a rebuild reproduces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import Case, RecoveryPlan
from carenet_casework.domain.case import Closed, ManagerAssigned, ManagerReassigned
from carenet_casework.domain.case_deadlines import (
    FollowUpMissed,
    FollowUpMissWithdrawn,
    LostToFollowUp,
    LostToFollowUpWithdrawn,
)
from carenet_casework.domain.case_visits import VisitRecorded
from carenet_casework.domain.staffing import FULL_TIME_HOURS, CenterStaff
from carenet_contracts.common import VisitMode
from carenet_contracts.recovery import GoalProgress
from carenet_kit.read_model_tables import Changes
from carenet_kit.sql_tables import Table


@dataclass
class VisitFact:
    visited_on: date
    in_person: bool
    adherence: str
    classification: str


@dataclass
class CaseFacts:
    """What the indicators count of one case."""

    case_id: UUID
    patient_id: UUID
    center_id: str
    opened_on: date
    closed_at: datetime | None = None
    case_manager_id: str | None = None
    visits: list[VisitFact] = field(default_factory=list)
    misses: list[date] = field(default_factory=list)
    """The due days of follow-ups missed (a miss withdrawn is taken out)."""
    lost_after: list[date] = field(default_factory=list)
    """For each standing lost-to-follow-up, the last missed due day of its streak."""
    plan_agreed_on: date | None = None
    goals_achieved_on: list[date] = field(default_factory=list)


CASE_FACTS = Table(
    "board_indicator_facts",
    CaseFacts,
    key=lambda f: f.case_id,
    columns={"center_id": lambda f: f.center_id},
)


@dataclass
class RosterFact:
    set_on: date
    full_time: dict[str, float]
    """Each role's staff in full-time equivalents."""


@dataclass
class StaffFacts:
    """What the indicators count of one center's staff: its rosters as each was set, and
    the training attended (day, hours)."""

    center_id: str
    rosters: list[RosterFact] = field(default_factory=list)
    training: list[tuple[date, int]] = field(default_factory=list)

    def roster_on(self, day: date) -> dict[str, float]:
        """The roster in force on `day` (none before the first was set)."""
        standing = [r for r in self.rosters if r.set_on <= day]
        return standing[-1].full_time if standing else {}


STAFF_FACTS = Table(
    "board_indicator_staff",
    StaffFacts,
    key=lambda f: f.center_id,
    columns={"center_id": lambda f: f.center_id},
)


class IndicatorFacts:
    """The part of casework's read model the indicators count from (a mixin of the board, so
    that a change here rebuilds the tables, as the read model's fingerprint covers it)."""

    @singledispatchmethod
    def _apply_indicator_facts(
        self, domain_event: DomainEventProtocol[UUID], changes: Changes
    ) -> None:
        """Events the indicators do not count are ignored."""

    @_apply_indicator_facts.register
    def _(self, e: Case.Opened, changes: Changes) -> None:
        changes.add(CASE_FACTS, CaseFacts(e.originator_id, e.patient_id, e.center_id, e.opened_on))

    @_apply_indicator_facts.register
    def _(self, e: ManagerAssigned | ManagerReassigned, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.originator_id).case_manager_id = e.case_manager_id

    @_apply_indicator_facts.register
    def _(self, e: VisitRecorded, changes: Changes) -> None:
        in_person = e.mode != VisitMode.PHONE
        visit = VisitFact(e.visited_on, in_person, e.medication_adherence, e.classification)
        facts = changes.change(CASE_FACTS, e.originator_id)
        facts.visits = sorted([*facts.visits, visit], key=lambda v: v.visited_on)

    @_apply_indicator_facts.register
    def _(self, e: FollowUpMissed, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.originator_id).misses.append(e.due_on)

    @_apply_indicator_facts.register
    def _(self, e: FollowUpMissWithdrawn, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.originator_id).misses.remove(e.due_on)

    @_apply_indicator_facts.register
    def _(self, e: LostToFollowUp, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.originator_id).lost_after.append(max(e.missed_due_dates))

    @_apply_indicator_facts.register
    def _(self, e: LostToFollowUpWithdrawn, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.originator_id).lost_after.remove(max(e.missed_due_dates))

    @_apply_indicator_facts.register
    def _(self, e: Closed, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.originator_id).closed_at = e.timestamp

    @_apply_indicator_facts.register
    def _(self, e: RecoveryPlan.Agreed, changes: Changes) -> None:
        changes.change(CASE_FACTS, e.case_id).plan_agreed_on = e.agreed_on

    @_apply_indicator_facts.register
    def _(self, e: RecoveryPlan.GoalReviewed, changes: Changes) -> None:
        if e.stands and e.progress == GoalProgress.ACHIEVED:
            changes.change(CASE_FACTS, e.case_id).goals_achieved_on.append(e.reviewed_on)

    @_apply_indicator_facts.register
    def _(self, e: CenterStaff.Started, changes: Changes) -> None:
        changes.add(STAFF_FACTS, StaffFacts(e.center_id))

    @_apply_indicator_facts.register
    def _(self, e: CenterStaff.RosterSet, changes: Changes) -> None:
        hours: dict[str, float] = {}
        for member in e.members:
            hours[member["role"]] = hours.get(member["role"], 0) + member["hours_per_week"]
        full_time = {role: round(h / FULL_TIME_HOURS, 2) for role, h in hours.items()}
        facts = changes.change(STAFF_FACTS, e.center_id)
        facts.rosters = [r for r in facts.rosters if r.set_on != e.set_on]
        facts.rosters.append(RosterFact(e.set_on, full_time))

    @_apply_indicator_facts.register
    def _(self, e: CenterStaff.TrainingCompleted, changes: Changes) -> None:
        changes.change(STAFF_FACTS, e.center_id).training.append((e.completed_on, e.hours))
