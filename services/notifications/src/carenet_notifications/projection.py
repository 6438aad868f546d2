"""Notifications' read model: each recipient's inbox, newest first, and failed deliveries.

A relative whose consent is withdrawn no longer sees the patient's items in their inbox. SQL
tables in notifications' own store, kept by `carenet_kit.read_model_tables`: no inbox is held
in memory between batches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_kit.fields import copy_of
from carenet_kit.read_model_tables import Changes, SqlReadModel
from carenet_kit.sql_tables import Table
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
class InboxEntry:
    item: InboxItem
    listed: bool = True
    """False once the recipient may no longer see the patient (a relative's consent withdrawn)."""


ITEMS = Table(
    "inbox_items",
    InboxEntry,
    key=lambda e: e.item.notification_id,
    columns={
        "recipient": lambda e: e.item.recipient,
        "circle_id": lambda e: PatientCircle.create_id(e.item.patient_id),
        "listed": lambda e: e.listed,
    },
)
FAILED = Table("inbox_failed", FailedDelivery, key=lambda f: f.delivery_id, columns={})


class Inboxes(SqlReadModel):
    tables = (ITEMS, FAILED)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Notification.Delivered, changes: Changes) -> None:
        item = copy_of(InboxItem, e, notification_id=e.originator_id)
        changes.add(ITEMS, InboxEntry(item))

    @apply.register
    def _(self, e: Notification.Acknowledged, changes: Changes) -> None:
        self._update(changes, e.originator_id, acknowledged_at=e.at)

    @apply.register
    def _(self, e: Notification.Escalated, changes: Changes) -> None:
        self._update(changes, e.originator_id, escalated_to=e.escalated_to)

    @apply.register
    def _(self, e: Delivery.GaveUp, changes: Changes) -> None:
        failed = copy_of(
            FailedDelivery,
            e.delivery,  # the delivery's facts, as the outcome repeats them
            delivery_id=e.originator_id,
            attempts=e.attempts,
            reason=e.reason,
            failed_at=e.timestamp,
        )
        changes.add(FAILED, failed)

    @apply.register
    def _(self, e: Delivery.RedeliveryRequested, changes: Changes) -> None:
        changes.remove(FAILED, e.originator_id)

    @apply.register
    def _(self, e: PatientCircle.FamilyConsentWithdrawn, changes: Changes) -> None:
        recipient = family(e.member_id)
        seen = changes.where(ITEMS, recipient=recipient, circle_id=e.originator_id, listed=True)
        for entry in seen:
            changes.change(ITEMS, entry.item.notification_id).listed = False

    @staticmethod
    def _update(changes: Changes, notification_id: UUID, **update: object) -> None:
        if changes.find(ITEMS, notification_id) is not None:
            entry = changes.change(ITEMS, notification_id)
            entry.item = replace(entry.item, **update)  # type: ignore[arg-type]

    def inbox(self, recipient: str) -> list[InboxItem]:
        listed = self.where(ITEMS, recipient=recipient, listed=True)
        return [e.item for e in reversed(listed)]

    def item(self, notification_id: UUID, recipient: str) -> InboxItem | None:
        entry = self.get(ITEMS, notification_id)
        if entry is None or not entry.listed or entry.item.recipient != recipient:
            return None
        return entry.item

    def failed_deliveries(self) -> list[FailedDelivery]:
        return sorted(self.where(FAILED), key=lambda f: f.failed_at)
