"""Notifications' service layer: tell the right people, through the right channels, once."""

from __future__ import annotations

import secrets
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.outbox import Cause
from carenet_kit.tracing import current_traceparent
from carenet_notifications import rules
from carenet_notifications.circle import family_member_of, role
from carenet_notifications.commands import Notify
from carenet_notifications.domain import Delivery, Notification, PatientCircle, Subscriptions
from carenet_notifications.domain.subscriptions import Subscription
from carenet_notifications.rules import Planned, RuleTable, Urgency

NETWORK_LEAD = role("network", "lead")
"""Who hears of an unacknowledged urgent notification about a patient with no center yet."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard a channel tries, and how long an urgent notification waits for its reader."""

    max_attempts: int = 8
    retry_initial: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    attempt_lease: timedelta = timedelta(minutes=2)
    escalate_after: timedelta = timedelta(minutes=30)

    def retry_at(self, now: datetime, attempts: int) -> datetime | None:
        """Exponential backoff with jitter after `attempts` failures; None: give up."""
        if attempts >= self.max_attempts:
            return None
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempts
        wait = wait_exponential_jitter(
            multiplier=self.retry_initial.total_seconds(),
            max=self.retry_max.total_seconds(),
            jitter=self.retry_initial.total_seconds(),
        )
        return now + timedelta(seconds=min(wait(state), self.retry_max.total_seconds()))


@dataclass(frozen=True)
class NewSubscription:
    subscription_id: UUID
    secret: str | None


class NotificationsApplication(ServiceApplication):
    producer: ClassVar = "notifications"

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        clock: Clock | None = None,
        rule_table: RuleTable | None = None,
        delivery_policy: DeliveryPolicy | None = None,
        require_https_webhooks: bool = False,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.rule_table = rule_table or rules.default_table()
        self.delivery_policy = delivery_policy or DeliveryPolicy()
        self.require_https_webhooks = require_https_webhooks

    # --- inbound -------------------------------------------------------------------------------

    def notify_of(self, command: Notify, cause: Cause) -> None:
        """Tell whoever the rule table names, then keep what the event says about the circle."""
        circle = self._circle(command.patient_id)
        changed: list[Aggregate] = []
        for planned in rules.plan(self.rule_table, command.event, circle.view()):
            changed.extend(self._notification(command, planned, circle))
        known = len(circle.pending_events)
        circle.learn(command.event, command.occurred_at)
        if len(circle.pending_events) > known:
            changed.append(circle)
        if changed:
            self.commit(*changed, cause=cause)

    def _notification(
        self, command: Notify, planned: Planned, circle: PatientCircle
    ) -> list[Aggregate]:
        notification_id = Notification.create_id(str(command.event_id), planned.recipient)
        if notification_id in self.repository:
            return []
        is_family = family_member_of(planned.recipient) is not None
        lead = role(circle.center_id, "lead") if circle.center_id else NETWORK_LEAD
        notification = Notification(
            subject=str(command.event_id),
            about_event_id=command.event_id,
            about_event_type=command.event_type,
            patient_id=command.patient_id,
            recipient=planned.recipient,
            urgency=planned.urgency,
            summary=planned.summary,
            dates=planned.dates,
            requires_acknowledgement=planned.urgency == Urgency.URGENT and not is_family,
            escalate_to=lead if lead != planned.recipient else None,
            delivered_at=self.clock.now(),
            rules_version=self.rule_table.version,
        )
        return [notification, *self._deliveries(notification, planned.channels)]

    def _deliveries(self, notification: Notification, channels: frozenset[str]) -> list[Delivery]:
        return [
            Delivery(
                notification_id=notification.id,
                subscription_id=subscription.subscription_id,
                recipient=notification.recipient,
                channel=subscription.channel,
                urgency=notification.urgency,
                patient_id=notification.patient_id,
                about_event_id=notification.about_event_id,
                about_event_type=notification.about_event_type,
                due_at=notification.delivered_at,
                traceparent=current_traceparent(),
                rule_set_version=notification.rules_version,
            )
            for subscription in self.active_subscriptions(notification.recipient)
            if subscription.channel in channels
        ]

    def _circle(self, patient_id: UUID) -> PatientCircle:
        try:
            circle: PatientCircle = self.repository.get(PatientCircle.create_id(patient_id))
        except AggregateNotFoundError:
            circle = PatientCircle(patient_id)
        return circle

    # --- acknowledgement and escalation ----------------------------------------------------------

    def acknowledge(self, notification_id: UUID, recipient: str, cause: Cause) -> None:
        """Only the recipient acknowledges; anyone else is told the notification is unknown."""
        notification: Notification = self.repository.get(notification_id)
        if notification.recipient != recipient:
            raise AggregateNotFoundError(notification_id)
        if notification.acknowledge(self.clock.now()):
            self.commit(notification, cause=cause)

    def escalate(self, notification: Notification, now: datetime) -> list[Aggregate]:
        """Record the escalation and tell the lead: once per event, however many copies escalate."""
        notification.escalate(now)
        assert notification.escalate_to is not None
        lead_id = Notification.create_id(
            f"escalation/{notification.about_event_id}", notification.escalate_to
        )
        if lead_id in self.repository:
            return [notification]
        minutes = int(self.delivery_policy.escalate_after.total_seconds() // 60)
        notice = Notification(
            subject=f"escalation/{notification.about_event_id}",
            about_event_id=notification.about_event_id,
            about_event_type=notification.about_event_type,
            patient_id=notification.patient_id,
            recipient=notification.escalate_to,
            urgency=Urgency.URGENT,
            summary=(
                f"Escalated: an urgent notification to {notification.recipient} stayed "
                f"unacknowledged for over {minutes} minutes. {notification.summary or ''}"
            ).strip(),
            dates=notification.dates,
            requires_acknowledgement=False,
            escalate_to=None,
            delivered_at=now,
            rules_version=self.rule_table.version,
        )
        channels = frozenset({"webhook", "email"})
        return [notification, notice, *self._deliveries(notice, channels)]

    # --- subscriptions -------------------------------------------------------------------------

    def subscribe(self, recipient: str, channel: str, address: str) -> NewSubscription:
        subscriptions = self._subscriptions(recipient) or Subscriptions(recipient)
        secret = (
            "whsec_" + b64encode(secrets.token_bytes(32)).decode() if channel == "webhook" else None
        )
        subscription_id = uuid4()
        subscriptions.subscribe(subscription_id, channel, address, secret, self.clock.now())
        self.commit(subscriptions, cause=Cause.request())
        return NewSubscription(subscription_id, secret)

    def unsubscribe(self, recipient: str, subscription_id: UUID) -> None:
        subscriptions = self._subscriptions(recipient)
        if subscriptions is None or subscription_id not in subscriptions.active:
            raise AggregateNotFoundError(subscription_id)
        subscriptions.unsubscribe(subscription_id)
        self.commit(subscriptions, cause=Cause.request())

    def active_subscriptions(self, recipient: str) -> list[Subscription]:
        subscriptions = self._subscriptions(recipient)
        return list(subscriptions.active.values()) if subscriptions else []

    def subscription(self, recipient: str, subscription_id: UUID) -> Subscription | None:
        subscriptions = self._subscriptions(recipient)
        return subscriptions.active.get(subscription_id) if subscriptions else None

    def _subscriptions(self, recipient: str) -> Subscriptions | None:
        subscriptions: Subscriptions | None = self.find(Subscriptions.create_id(recipient))
        return subscriptions

    # --- deliveries ----------------------------------------------------------------------------

    def redeliver(self, delivery_id: UUID) -> None:
        delivery: Delivery = self.repository.get(delivery_id)
        delivery.redeliver(self.clock.now())
        self.commit(delivery, cause=Cause.request())

    def may_still_reach(self, delivery: Delivery) -> str | None:
        """Why this delivery must not go out any more, or None when it may."""
        member = family_member_of(delivery.recipient)
        if member is not None and not self._circle(delivery.patient_id).is_consented(member):
            return "consent withdrawn"
        if self.subscription(delivery.recipient, delivery.subscription_id) is None:
            return "subscription removed"
        return None
