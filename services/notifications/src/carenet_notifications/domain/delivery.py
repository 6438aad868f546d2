"""A delivery: one notification sent over one subscribed channel, attempt by attempt.

Each attempt is claimed (recorded) before the send and its outcome after, so a restart never
loses a delivery; an attempt whose outcome was never recorded is retried after its lease with
the same id, which the receiver uses to drop the repeat (Standard Webhooks `webhook-id`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NotRequired, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_kit.fields import copy_of
from carenet_kit.refusals import Conflict

DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:notifications:delivery")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryFacts(TypedDict):
    notification_id: UUID
    recipient: str
    channel: str
    urgency: str
    patient_id: UUID
    about_event_id: UUID
    about_event_type: str
    rule_set_version: NotRequired[str | None]
    """Absent from outcomes recorded before deliveries kept it."""


class Delivery(Aggregate):
    @staticmethod
    def create_id(notification_id: UUID, subscription_id: UUID) -> UUID:
        return uuid5(DELIVERY_NAMESPACE, f"{notification_id}/{subscription_id}")

    class Scheduled(Aggregate.Created):
        notification_id: UUID
        subscription_id: UUID
        recipient: str
        channel: str
        urgency: str
        patient_id: UUID
        about_event_id: UUID
        about_event_type: str
        due_at: datetime
        traceparent: str | None
        """The W3C trace context of the message that caused the notification: the attempts
        continue its trace. None in stores written before tracing."""
        rule_set_version: str | None
        """The rule set the notification was planned under; None in stores written before."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["traceparent"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, object]) -> None:
            state["rule_set_version"] = None

    @event(Scheduled)
    def __init__(
        self,
        notification_id: UUID,
        subscription_id: UUID,
        recipient: str,
        channel: str,
        urgency: str,
        patient_id: UUID,
        about_event_id: UUID,
        about_event_type: str,
        due_at: datetime,
        traceparent: str | None = None,
        rule_set_version: str | None = None,
    ) -> None:
        self.rule_set_version = rule_set_version
        self.notification_id = notification_id
        self.subscription_id = subscription_id
        self.recipient = recipient
        self.channel = channel
        self.urgency = urgency
        self.patient_id = patient_id
        self.about_event_id = about_event_id
        self.about_event_type = about_event_type
        self.status = DeliveryStatus.PENDING
        self.attempts = 0
        self.next_attempt_at: datetime | None = due_at
        self.last_failure: str | None = None
        self.traceparent = traceparent

    def is_due(self, now: datetime) -> bool:
        return (
            self.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )

    class AttemptStarted(Aggregate.Event):
        started_at: datetime
        retry_at: datetime

    @event(AttemptStarted)
    def start_attempt(self, started_at: datetime, retry_at: datetime) -> None:
        """`retry_at`: when the attempt counts as lost if no outcome was recorded by then."""
        self.attempts += 1
        self.status = DeliveryStatus.SENDING
        self.next_attempt_at = retry_at

    def facts(self) -> DeliveryFacts:
        """What an outcome says of its delivery, repeated in the outcome's own event."""
        return copy_of(DeliveryFacts, self)

    def succeed(self, at: datetime) -> None:
        self._succeeded(at, self.attempts, self.facts())

    class Succeeded(Aggregate.Event):
        at: datetime
        attempt: int
        delivery: DeliveryFacts

    @event(Succeeded)
    def _succeeded(self, at: datetime, attempt: int, delivery: DeliveryFacts) -> None:
        self.status = DeliveryStatus.DELIVERED
        self.next_attempt_at = None

    def fail(self, reason: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; without a `retry_at` the delivery gives up (dead letter)."""
        self._attempt_failed(reason, retry_at)
        if retry_at is None:
            self._gave_up(self.attempts, reason, self.facts())

    class AttemptFailed(Aggregate.Event):
        reason: str
        retry_at: datetime | None

    @event(AttemptFailed)
    def _attempt_failed(self, reason: str, retry_at: datetime | None) -> None:
        self.status = DeliveryStatus.PENDING
        self.next_attempt_at = retry_at
        self.last_failure = reason

    class GaveUp(Aggregate.Event):
        attempts: int
        reason: str
        delivery: DeliveryFacts

    @event(GaveUp)
    def _gave_up(self, attempts: int, reason: str, delivery: DeliveryFacts) -> None:
        self.status = DeliveryStatus.FAILED

    def redeliver(self, at: datetime) -> None:
        if self.status != DeliveryStatus.FAILED:
            raise Conflict(f"only a failed delivery is redelivered; this one is {self.status}")
        self._redelivery_requested(at)

    class RedeliveryRequested(Aggregate.Event):
        at: datetime

    @event(RedeliveryRequested)
    def _redelivery_requested(self, at: datetime) -> None:
        self.status = DeliveryStatus.PENDING
        self.attempts = 0
        self.next_attempt_at = at

    def cancel(self, reason: str) -> bool:
        if self.status in (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED):
            return False
        self._cancelled(reason)
        return True

    class Cancelled(Aggregate.Event):
        reason: str

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = DeliveryStatus.CANCELLED
        self.next_attempt_at = None
