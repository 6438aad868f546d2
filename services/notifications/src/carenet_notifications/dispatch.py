"""The sender loop: every round, send what has fallen due and escalate what nobody acknowledged.

Runs as the service's `due_work` on the application's clock, so tests move time. It follows
the notification log into a small read model of its own (pending deliveries, urgent
notifications awaiting acknowledgement), which a restart loads from its last snapshot
(`carenet_kit.projection.LogFollower`); the aggregates decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from prometheus_client import Counter

from carenet_kit import fail_points, tracing
from carenet_kit.outbox import Cause
from carenet_kit.projection import LogFollower
from carenet_kit.read_model_snapshots import SnapshotSchedule
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.channels import Sender, SendFailed, message_of
from carenet_notifications.domain import Delivery, Notification

log = structlog.get_logger()

DELIVERY_ATTEMPTS = Counter(
    "carenet_notification_deliveries",
    "Attempts to deliver a notification, by channel and outcome: `delivered`, `failed` (to be "
    "retried) or `gave_up` (the last attempt failed).",
    ["channel", "outcome"],
)


@dataclass
class PendingDeliveries:
    """When each delivery is next due, and since when each urgent notification waits."""

    deliveries: dict[UUID, datetime] = field(default_factory=dict)
    awaiting_acknowledgement: dict[UUID, datetime] = field(default_factory=dict)

    EVENTS: ClassVar = (
        Delivery.Scheduled,
        Delivery.AttemptStarted,
        Delivery.AttemptFailed,
        Delivery.Succeeded,
        Delivery.GaveUp,
        Delivery.RedeliveryRequested,
        Delivery.Cancelled,
        Notification.Delivered,
        Notification.Acknowledged,
        Notification.Escalated,
    )
    """What it follows."""

    def apply(self, e: object) -> None:
        match e:
            case Delivery.Scheduled(originator_id=i, due_at=at):
                self.deliveries[i] = at
            case Delivery.AttemptStarted(originator_id=i, retry_at=at):
                self.deliveries[i] = at
            case Delivery.AttemptFailed(originator_id=i, retry_at=at) if at is not None:
                self.deliveries[i] = at
            case Delivery.RedeliveryRequested(originator_id=i, at=at):
                self.deliveries[i] = at
            case Delivery.AttemptFailed() | Delivery.Succeeded() | Delivery.Cancelled():
                self.deliveries.pop(e.originator_id, None)
            case Notification.Delivered(originator_id=i) if e.requires_acknowledgement:
                self.awaiting_acknowledgement[i] = e.delivered_at
            case Notification.Acknowledged() | Notification.Escalated():
                self.awaiting_acknowledgement.pop(e.originator_id, None)

    def due(self, now: datetime) -> list[UUID]:
        due = [(at, i) for i, at in self.deliveries.items() if at <= now]
        return [i for _, i in sorted(due)]

    def unacknowledged_since(self, moment: datetime) -> list[UUID]:
        return [i for i, at in self.awaiting_acknowledgement.items() if at <= moment]


class Dispatcher:
    def __init__(
        self,
        app: NotificationsApplication,
        senders: Mapping[str, Sender],
        public_url: str,
        snapshots: SnapshotSchedule | None = None,
    ) -> None:
        self.app = app
        self.senders = senders
        self.public_url = public_url
        self.pending = PendingDeliveries()
        self._following = LogFollower(app, self.pending, snapshots, PendingDeliveries.EVENTS)

    def __call__(self, now: datetime) -> int:
        self._following.catch_up()
        acted = sum(self._attempt(i, now) for i in self.pending.due(now))
        before = now - self.app.delivery_policy.escalate_after
        acted += sum(self._escalate(i, now) for i in self.pending.unacknowledged_since(before))
        return acted

    def _attempt(self, delivery_id: UUID, now: datetime) -> bool:
        delivery: Delivery = self.app.repository.get(delivery_id)
        if not delivery.is_due(now):
            return False
        with (
            tracing.continuing(f"deliver {delivery.channel}", delivery.traceparent),
            structlog.contextvars.bound_contextvars(
                delivery_id=str(delivery_id), patient_id=str(delivery.patient_id)
            ),
        ):
            if (refusal := self.app.may_still_reach(delivery)) is not None:
                delivery.cancel(refusal)
                log.info("delivery cancelled", reason=refusal)
                return self._commit(delivery)
            policy = self.app.delivery_policy
            delivery.start_attempt(now, retry_at=now + policy.attempt_lease)
            if not self._commit(delivery):
                return False  # another sender claimed this attempt
            subscription = self.app.subscription(delivery.recipient, delivery.subscription_id)
            notification: Notification = self.app.repository.get(delivery.notification_id)
            assert subscription is not None
            try:
                self.senders[delivery.channel].send(
                    message_of(notification, delivery_id, self.public_url), subscription
                )
            except SendFailed as failure:
                retry_at = policy.retry_at(self.app.clock.now(), delivery.attempts)
                delivery.fail(str(failure), retry_at)
                outcome = "failed" if retry_at is not None else "gave_up"
                DELIVERY_ATTEMPTS.labels(delivery.channel, outcome).inc()
                log.warning(
                    "delivery attempt failed",
                    channel=delivery.channel,
                    attempt=delivery.attempts,
                    reason=str(failure),
                    gave_up=retry_at is None,
                )
            else:
                fail_points.reached("notifications.sent")
                delivery.succeed(self.app.clock.now())
                DELIVERY_ATTEMPTS.labels(delivery.channel, "delivered").inc()
                log.info("delivered", channel=delivery.channel, attempt=delivery.attempts)
            return self._commit(delivery)

    def _escalate(self, notification_id: UUID, now: datetime) -> bool:
        notification: Notification = self.app.repository.get(notification_id)
        if not notification.escalation_due(now, self.app.delivery_policy.escalate_after):
            return False
        log.info("urgent notification escalated", notification_id=str(notification_id))
        return self._commit(*self.app.escalate(notification, now))

    def _commit(self, *aggregates: Aggregate) -> bool:
        try:
            self.app.commit(*aggregates, cause=Cause.request())
        except IntegrityError:
            log.info("due work taken by a concurrent writer")
            return False
        return True
