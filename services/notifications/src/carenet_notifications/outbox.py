"""Notifications' outbound mapper: who was told what, through which channel, and what came of it.

Published: a notification landing in an inbox or a send succeeding (`NotificationDelivered`),
a channel giving up (`NotificationFailed`), an acknowledgement, an escalation. Never published:
summaries, subscriptions, addresses, attempts.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts.notifications import (
    NotificationAcknowledged,
    NotificationDelivered,
    NotificationEscalated,
    NotificationFailed,
)
from carenet_kit.outbox import Outgoing
from carenet_notifications.domain import Delivery, Notification


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Notification.Delivered() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=NotificationDelivered(
                    notification_id=e.originator_id,
                    recipient=e.recipient,
                    channel="inbox",
                    urgency=e.urgency,
                    about_event_id=e.about_event_id,
                    about_event_type=e.about_event_type,
                    rule_set_version=e.rules_version,
                ),
            )
        case Delivery.Succeeded() as e:
            d = e.delivery
            return Outgoing(
                patient_id=d["patient_id"],
                occurred_at=e.timestamp,
                payload=NotificationDelivered(
                    notification_id=d["notification_id"],
                    recipient=d["recipient"],
                    channel=d["channel"],
                    urgency=d["urgency"],
                    about_event_id=d["about_event_id"],
                    about_event_type=d["about_event_type"],
                    rule_set_version=d.get("rule_set_version"),
                ),
            )
        case Delivery.GaveUp() as e:
            d = e.delivery
            return Outgoing(
                patient_id=d["patient_id"],
                occurred_at=e.timestamp,
                payload=NotificationFailed(
                    notification_id=d["notification_id"],
                    delivery_id=e.originator_id,
                    recipient=d["recipient"],
                    channel=d["channel"],
                    attempts=e.attempts,
                    reason=e.reason,
                    about_event_id=d["about_event_id"],
                    about_event_type=d["about_event_type"],
                ),
            )
        case Notification.Acknowledged() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=NotificationAcknowledged(
                    notification_id=e.originator_id,
                    recipient=e.recipient,
                    about_event_id=e.about_event_id,
                ),
            )
        case Notification.Escalated() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=NotificationEscalated(
                    notification_id=e.originator_id,
                    recipient=e.recipient,
                    escalated_to=e.escalated_to,
                    unacknowledged_for_minutes=e.unacknowledged_minutes,
                    about_event_id=e.about_event_id,
                ),
            )
    return None
