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
from carenet_kit.outbox import Outgoing, contract_payload
from carenet_notifications.domain import Delivery, Notification


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Notification.Delivered() as e:
            delivered = contract_payload(
                NotificationDelivered,
                e,
                notification_id=e.originator_id,
                channel="inbox",
                rule_set_version=e.rules_version,
            )
            return Outgoing.of(e, delivered)
        case Delivery.Succeeded() as e:
            delivered = contract_payload(NotificationDelivered, e.delivery)
            return Outgoing.of(e, delivered, patient_id=e.delivery["patient_id"])
        case Delivery.GaveUp() as e:
            failed = contract_payload(
                NotificationFailed,
                e.delivery,
                delivery_id=e.originator_id,
                attempts=e.attempts,
                reason=e.reason,
            )
            return Outgoing.of(e, failed, patient_id=e.delivery["patient_id"])
        case Notification.Acknowledged() as e:
            acknowledged = contract_payload(
                NotificationAcknowledged, e, notification_id=e.originator_id
            )
            return Outgoing.of(e, acknowledged)
        case Notification.Escalated() as e:
            escalated = contract_payload(
                NotificationEscalated,
                e,
                notification_id=e.originator_id,
                unacknowledged_for_minutes=e.unacknowledged_minutes,
            )
            return Outgoing.of(e, escalated)
    return None
