"""A center's staff: its roster by role with the hours each works, and the training they attend.

Beijing's centers name too few staff and too little training as their biggest problem; the
roster and the training are what the network's indicators set the caseload against. The
center's lead keeps the roster (the whole of it, each time: who leaves is not on the next one)
and records each training attended. Staff ids only: no personal data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import RuleBroken

STAFFING_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:center-staff")
MAX_ROSTER = 500
FULL_TIME_HOURS = 40


class StaffRole(StrEnum):
    PSYCHIATRIST = "psychiatrist"
    PSYCHOTHERAPIST = "psychotherapist"
    NURSE = "nurse"
    SOCIAL_WORKER = "social_worker"
    """The case managers (Shenzhen Nanshan's model)."""
    PEER_SUPPORTER = "peer_supporter"


@dataclass(frozen=True)
class Member:
    staff_id: str
    role: StaffRole
    hours_per_week: int


@dataclass(frozen=True)
class Training:
    staff_id: str
    course: str
    hours: int
    completed_on: date


class CenterStaff(Aggregate):
    """One center's roster and training record."""

    @staticmethod
    def create_id(center_id: str) -> UUID:
        return uuid5(STAFFING_NAMESPACE, center_id)

    class Started(Aggregate.Created):
        center_id: str

    @event(Started)
    def __init__(self, center_id: str) -> None:
        self.center_id = center_id
        self.roster: list[Member] = []
        self.trainings: list[Training] = []

    class RosterSet(Aggregate.Event):
        center_id: str
        members: list[dict[str, Any]]
        set_by: str
        set_on: date

        def apply(self, staff: CenterStaff) -> None:
            staff.roster = [
                Member(m["staff_id"], StaffRole(m["role"]), m["hours_per_week"])
                for m in self.members
            ]

    class TrainingCompleted(Aggregate.Event):
        center_id: str
        staff_id: str
        course: str
        hours: int
        completed_on: date
        recorded_by: str

        def apply(self, staff: CenterStaff) -> None:
            staff.trainings.append(
                Training(self.staff_id, self.course, self.hours, self.completed_on)
            )

    def set_roster(self, members: list[Member], by: str, today: date) -> None:
        if len(members) > MAX_ROSTER:
            raise RuleBroken(f"members: at most {MAX_ROSTER}")
        if len({m.staff_id for m in members}) != len(members):
            raise RuleBroken("members: a staff id appears twice")
        self.trigger_event(
            self.RosterSet,
            center_id=self.center_id,
            members=[asdict(m) | {"role": m.role.value} for m in members],
            set_by=by,
            set_on=today,
        )

    def complete_training(self, training: Training, by: str, today: date) -> None:
        if training.staff_id not in {m.staff_id for m in self.roster}:
            raise RuleBroken("staff_id: not on the center's roster")
        if training.completed_on > today:
            raise RuleBroken("completed_on: must not be in the future")
        self.trigger_event(
            self.TrainingCompleted,
            center_id=self.center_id,
            staff_id=training.staff_id,
            course=training.course,
            hours=training.hours,
            completed_on=training.completed_on,
            recorded_by=by,
        )

    def full_time(self, role: StaffRole) -> float:
        """The role's staff in full-time equivalents (40 hours a week)."""
        hours = sum(m.hours_per_week for m in self.roster if m.role is role)
        return round(hours / FULL_TIME_HOURS, 1)
