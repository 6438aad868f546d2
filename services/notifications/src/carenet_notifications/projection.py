"""Notifications' read model: each recipient's inbox, newest first, and failed deliveries.

A relative whose consent is withdrawn no longer sees the patient's items in their inbox.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_notifications.circle import family
from carenet_notifications.domain import Delivery, Notification, PatientCircle


@dataclass(frozen=True)
class InboxItem:
    notification_id: UUID
    recipient: str
    delivered_at: datetime
    patient_id: UUID
    about_event_id: UUID
    about_event_type: str
    urgency: str
    summary: str | None
    dates: dict[str, str]
    requires_acknowledgement: bool
    acknowledged_at: datetime | None = None
    escalated_to: str | None = None


@dataclass(frozen=True)
class FailedDelivery:
    delivery_id: UUID
    notification_id: UUID
    recipient: str
    channel: str
    patient_id: UUID
    about_event_type: str
    attempts: int
    reason: str
    failed_at: datetime


@dataclass
class Inboxes:
    items: dict[UUID, InboxItem] = field(default_factory=dict)
    by_recipient: defaultdict[str, list[UUID]] = field(default_factory=lambda: defaultdict(list))
    failed: dict[UUID, FailedDelivery] = field(default_factory=dict)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Notification.Delivered) -> None:
        self.items[e.originator_id] = InboxItem(
            notification_id=e.originator_id,
            recipient=e.recipient,
            delivered_at=e.delivered_at,
            patient_id=e.patient_id,
            about_event_id=e.about_event_id,
            about_event_type=e.about_event_type,
            urgency=e.urgency,
            summary=e.summary,
            dates=e.dates,
            requires_acknowledgement=e.requires_acknowledgement,
        )
        self.by_recipient[e.recipient].append(e.originator_id)

    @apply.register
    def _(self, e: Notification.Acknowledged) -> None:
        self._update(e.originator_id, acknowledged_at=e.at)

    @apply.register
    def _(self, e: Notification.Escalated) -> None:
        self._update(e.originator_id, escalated_to=e.escalated_to)

    @apply.register
    def _(self, e: Delivery.GaveUp) -> None:
        d = e.delivery
        self.failed[e.originator_id] = FailedDelivery(
            delivery_id=e.originator_id,
            notification_id=d["notification_id"],
            recipient=d["recipient"],
            channel=d["channel"],
            patient_id=d["patient_id"],
            about_event_type=d["about_event_type"],
            attempts=e.attempts,
            reason=e.reason,
            failed_at=e.timestamp,
        )

    @apply.register
    def _(self, e: Delivery.RedeliveryRequested) -> None:
        self.failed.pop(e.originator_id, None)

    @apply.register
    def _(self, e: PatientCircle.FamilyConsentWithdrawn) -> None:
        recipient = family(e.member_id)
        patient_id = self._patient_of_circle(e.originator_id, recipient)
        self.by_recipient[recipient] = [
            i
            for i in self.by_recipient.get(recipient, [])
            if self.items[i].patient_id != patient_id
        ]

    def _patient_of_circle(self, circle_id: UUID, recipient: str) -> UUID | None:
        for i in self.by_recipient.get(recipient, []):
            if PatientCircle.create_id(self.items[i].patient_id) == circle_id:
                return self.items[i].patient_id
        return None

    def _update(self, notification_id: UUID, **changes: object) -> None:
        item = self.items.get(notification_id)
        if item is not None:
            self.items[notification_id] = replace(item, **changes)  # type: ignore[arg-type]

    def inbox(self, recipient: str) -> list[InboxItem]:
        return [self.items[i] for i in reversed(self.by_recipient.get(recipient, []))]

    def item(self, notification_id: UUID, recipient: str) -> InboxItem | None:
        if notification_id not in self.by_recipient.get(recipient, []):
            return None
        return self.items[notification_id]

    def failed_deliveries(self) -> list[FailedDelivery]:
        return sorted(self.failed.values(), key=lambda f: f.failed_at)
