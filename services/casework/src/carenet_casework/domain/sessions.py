"""Peer-support sessions and group activities at a center, with attendance per patient.

Each attendance becomes part of the patient's rehabilitation history: one event per attendee,
on that patient's stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import RuleBroken
from carenet_contracts.casework import SessionKind


@dataclass(frozen=True)
class SessionRule:
    topics: tuple[str, ...]
    min_minutes: int
    max_minutes: int


SESSION_RULES: dict[SessionKind, SessionRule] = {
    # care-pathway-rules.md, "Family and peers": 40-120 minutes on these topics
    SessionKind.PEER_SUPPORT: SessionRule(
        topics=(
            "daily_life_skills",
            "social_skills",
            "illness_knowledge",
            "emotional_support",
            "healthy_lifestyle",
        ),
        min_minutes=40,
        max_minutes=120,
    ),
    # the rules name the activities, not their length: half an hour to half a day
    SessionKind.GROUP_ACTIVITY: SessionRule(
        topics=("handcrafts", "painting", "storytelling", "clothes_and_bag_making"),
        min_minutes=30,
        max_minutes=240,
    ),
}


@dataclass(frozen=True)
class SessionPlan:
    """A session as the center records it (checked against the rules when it is recorded)."""

    session_id: UUID
    center_id: str
    kind: SessionKind
    topic: str
    held_on: date
    duration_minutes: int
    facilitator_id: str

    def check(self) -> None:
        rule = SESSION_RULES[self.kind]
        if self.topic not in rule.topics:
            raise RuleBroken(
                f"{self.topic!r} is not a {self.kind.value} topic; one of: {', '.join(rule.topics)}"
            )
        if not rule.min_minutes <= self.duration_minutes <= rule.max_minutes:
            raise RuleBroken(
                f"a {self.kind.value} session lasts {rule.min_minutes}-{rule.max_minutes} minutes"
            )


class RehabilitationSession(Aggregate):
    """One session or activity; attendance may be recorded on the day or later."""

    @staticmethod
    def create_id(session_id: UUID) -> UUID:
        return session_id

    class Held(Aggregate.Created):
        session_id: UUID
        center_id: str
        kind: str
        topic: str
        held_on: date
        duration_minutes: int
        facilitator_id: str

    @event(Held)
    def __init__(
        self,
        session_id: UUID,
        center_id: str,
        kind: str,
        topic: str,
        held_on: date,
        duration_minutes: int,
        facilitator_id: str,
    ) -> None:
        self.plan = SessionPlan(
            session_id,
            center_id,
            SessionKind(kind),
            topic,
            held_on,
            duration_minutes,
            facilitator_id,
        )
        self.attendees: list[UUID] = []

    @classmethod
    def hold(cls, plan: SessionPlan) -> RehabilitationSession:
        plan.check()
        return cls(
            session_id=plan.session_id,
            center_id=plan.center_id,
            kind=plan.kind.value,
            topic=plan.topic,
            held_on=plan.held_on,
            duration_minutes=plan.duration_minutes,
            facilitator_id=plan.facilitator_id,
        )

    class Attended(Aggregate.Event):
        """Carries the session's details so each attendee's history stands on its own."""

        patient_id: UUID
        center_id: str
        kind: str
        topic: str
        held_on: date
        duration_minutes: int
        facilitator_id: str

    @event(Attended)
    def _attended(
        self,
        patient_id: UUID,
        center_id: str,
        kind: str,
        topic: str,
        held_on: date,
        duration_minutes: int,
        facilitator_id: str,
    ) -> None:
        self.attendees.append(patient_id)

    def record_attendance(self, patient_ids: list[UUID], today: date) -> list[UUID]:
        """Record who attended; those already recorded are left as they are. Returns the new."""
        if self.plan.held_on > today:
            raise RuleBroken("attendance is recorded once the session has taken place")
        new = [p for p in dict.fromkeys(patient_ids) if p not in self.attendees]
        p = self.plan
        for patient_id in new:
            self._attended(
                patient_id,
                p.center_id,
                p.kind.value,
                p.topic,
                p.held_on,
                p.duration_minutes,
                p.facilitator_id,
            )
        return new
