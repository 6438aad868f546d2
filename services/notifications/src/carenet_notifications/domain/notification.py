"""A notification: one recipient told of one event, in their inbox at once, and acknowledged."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NOTIFICATION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:notifications:notification")


class Notification(Aggregate):
    """Its id derives from (subject, recipient): the same news cannot reach the same inbox twice.

    The subject is the event's id, or `escalation/<event id>` for the notice to a center's
    lead, so several unacknowledged copies of one event escalate to one notice.
    """

    @staticmethod
    def create_id(subject: str, recipient: str) -> UUID:
        return uuid5(NOTIFICATION_NAMESPACE, f"{subject}/{recipient}")

    class Delivered(Aggregate.Created):
        """It landed in the recipient's inbox (always the first channel)."""

        subject: str
        about_event_id: UUID
        about_event_type: str
        patient_id: UUID
        recipient: str
        urgency: str
        summary: str | None
        dates: dict[str, str]
        requires_acknowledgement: bool
        escalate_to: str | None
        delivered_at: datetime
        rules_version: str

    @event(Delivered)
    def __init__(
        self,
        subject: str,
        about_event_id: UUID,
        about_event_type: str,
        patient_id: UUID,
        recipient: str,
        urgency: str,
        summary: str | None,
        dates: dict[str, str],
        requires_acknowledgement: bool,
        escalate_to: str | None,
        delivered_at: datetime,
        rules_version: str,
    ) -> None:
        self.about_event_id = about_event_id
        self.about_event_type = about_event_type
        self.patient_id = patient_id
        self.recipient = recipient
        self.urgency = urgency
        self.summary = summary
        self.dates = dates
        self.requires_acknowledgement = requires_acknowledgement
        self.escalate_to = escalate_to
        self.delivered_at = delivered_at
        self.rules_version = rules_version
        self.acknowledged_at: datetime | None = None
        self.escalated_at: datetime | None = None

    def escalation_due(self, now: datetime, after: timedelta) -> bool:
        return (
            self.requires_acknowledgement
            and self.escalate_to is not None
            and self.acknowledged_at is None
            and self.escalated_at is None
            and now >= self.delivered_at + after
        )

    def acknowledge(self, at: datetime) -> bool:
        """Returns whether this changed anything (a second acknowledgement does not)."""
        if self.acknowledged_at is not None:
            return False
        self._acknowledged(at, self.recipient, self.patient_id, self.about_event_id)
        return True

    class Acknowledged(Aggregate.Event):
        at: datetime
        recipient: str
        patient_id: UUID
        about_event_id: UUID

    @event(Acknowledged)
    def _acknowledged(
        self, at: datetime, recipient: str, patient_id: UUID, about_event_id: UUID
    ) -> None:
        self.acknowledged_at = at

    def escalate(self, at: datetime) -> None:
        assert self.escalate_to is not None
        minutes = int((at - self.delivered_at).total_seconds() // 60)
        self._escalated(
            at, self.escalate_to, minutes, self.recipient, self.patient_id, self.about_event_id
        )

    class Escalated(Aggregate.Event):
        at: datetime
        escalated_to: str
        unacknowledged_minutes: int
        recipient: str
        patient_id: UUID
        about_event_id: UUID

    @event(Escalated)
    def _escalated(
        self,
        at: datetime,
        escalated_to: str,
        unacknowledged_minutes: int,
        recipient: str,
        patient_id: UUID,
        about_event_id: UUID,
    ) -> None:
        self.escalated_at = at
