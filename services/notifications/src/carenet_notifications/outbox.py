"""Notifications' outbound mapper: each delivery is published as `NotificationDelivered`."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts.notifications import NotificationDelivered
from carenet_kit.outbox import Outgoing
from carenet_notifications.domain import Notification


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    if not isinstance(domain_event, Notification.Delivered):
        return None
    e = domain_event
    return Outgoing(
        patient_id=e.patient_id,
        occurred_at=e.timestamp,
        payload=NotificationDelivered(
            notification_id=e.originator_id,
            recipient=e.recipient,
            channel=e.channel,
            urgency=e.urgency,
            about_event_id=e.about_event_id,
            about_event_type=e.about_event_type,
        ),
    )
