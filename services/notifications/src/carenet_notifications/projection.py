"""Notifications' read model: each recipient's inbox, newest first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_notifications.domain import Notification


@dataclass(frozen=True)
class InboxItem:
    notification_id: UUID
    delivered_at: datetime
    patient_id: UUID
    about_event_id: UUID
    about_event_type: str
    urgency: str
    summary: str


@dataclass
class Inboxes:
    by_recipient: dict[str, list[InboxItem]] = field(default_factory=lambda: defaultdict(list))

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Notification.Delivered) -> None:
        self.by_recipient[e.recipient].append(
            InboxItem(
                notification_id=e.originator_id,
                delivered_at=e.timestamp,
                patient_id=e.patient_id,
                about_event_id=e.about_event_id,
                about_event_type=e.about_event_type,
                urgency=e.urgency,
                summary=e.summary,
            )
        )

    def inbox(self, recipient: str) -> list[InboxItem]:
        return list(reversed(self.by_recipient.get(recipient, [])))
