"""Prevention and education in the community: lectures, a mental health week, talks at schools
and workplaces. A session is counted, not attended by name: its topic, audience and attendance,
no personal data. The center's own work, recorded here; it counts in the network's indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

ACTIVITY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:prevention-activity")
MAX_ATTENDANCE = 100_000


class ActivityKind(StrEnum):
    LECTURE = "lecture"
    MENTAL_HEALTH_WEEK = "mental_health_week"
    SCHOOL_TALK = "school_talk"
    WORKPLACE_TALK = "workplace_talk"
    COMMUNITY_EVENT = "community_event"


class Audience(StrEnum):
    GENERAL_PUBLIC = "general_public"
    STUDENTS = "students"
    PARENTS = "parents"
    WORKERS = "workers"
    OLDER_PEOPLE = "older_people"
    FAMILIES_OF_PATIENTS = "families_of_patients"


@dataclass(frozen=True)
class Activity:
    activity_id: UUID
    center_id: str
    kind: ActivityKind
    topic: str
    audience: Audience
    held_on: date
    attendance: int
    recorded_by: str


class PreventionActivity(Aggregate):
    """One activity, recorded once (its id is the client's, in a namespace of its own)."""

    @staticmethod
    def create_id(activity_id: UUID) -> UUID:
        return uuid5(ACTIVITY_NAMESPACE, str(activity_id))

    class Held(Aggregate.Created):
        activity_id: UUID
        center_id: str
        kind: str
        topic: str
        audience: str
        held_on: date
        attendance: int
        recorded_by: str

    @event(Held)
    def __init__(
        self,
        activity_id: UUID,
        center_id: str,
        kind: str,
        topic: str,
        audience: str,
        held_on: date,
        attendance: int,
        recorded_by: str,
    ) -> None:
        self.activity_id = activity_id
        self.center_id = center_id
        self.kind = kind
        self.topic = topic
        self.audience = audience
        self.held_on = held_on
        self.attendance = attendance
        self.recorded_by = recorded_by

    @classmethod
    def hold(cls, activity: Activity) -> PreventionActivity:
        return cls(
            activity_id=activity.activity_id,
            center_id=activity.center_id,
            kind=activity.kind.value,
            topic=activity.topic,
            audience=activity.audience.value,
            held_on=activity.held_on,
            attendance=activity.attendance,
            recorded_by=activity.recorded_by,
        )
