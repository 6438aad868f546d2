"""A notification: one recipient told of one event, once."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NOTIFICATION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:notifications:notification")


class Notification(Aggregate):
    """Its id derives from (event, recipient): the same news cannot reach the same inbox twice."""

    @staticmethod
    def create_id(about_event_id: UUID, recipient: str) -> UUID:
        return uuid5(NOTIFICATION_NAMESPACE, f"{about_event_id}/{recipient}")

    class Delivered(Aggregate.Created):
        about_event_id: UUID
        recipient: str
        about_event_type: str
        patient_id: UUID
        channel: str
        urgency: str
        summary: str
        rules_version: str

    @event(Delivered)
    def __init__(
        self,
        about_event_id: UUID,
        recipient: str,
        about_event_type: str,
        patient_id: UUID,
        channel: str,
        urgency: str,
        summary: str,
        rules_version: str,
    ) -> None:
        self.recipient = recipient
        self.patient_id = patient_id
