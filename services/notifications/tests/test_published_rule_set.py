"""Notifications names, in what it publishes, the rule set that chose each recipient."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from carenet_contracts.notifications import NotificationDelivered
from carenet_devtools.stored_events import as_stored_before
from carenet_notifications.domain import Delivery, Notification
from carenet_notifications.outbox import to_integration_event
from carenet_notifications.rules import default_table

from .test_delivery_trace import TRACEPARENT

AT = datetime(2026, 11, 22, 9, tzinfo=UTC)


def delivered(notification: Notification | Delivery) -> NotificationDelivered:
    published = [to_integration_event(e) for e in notification.collect_events()]
    payloads = [o.payload for o in published if o is not None]
    assert len(payloads) == 1
    assert isinstance(payloads[0], NotificationDelivered)
    return payloads[0]


def notification(rules_version: str) -> Notification:
    return Notification(
        subject=f"{uuid4()}/staff:SW-NS-LI",
        about_event_id=uuid4(),
        about_event_type="CaseManagerAssigned",
        patient_id=uuid4(),
        recipient="staff:SW-NS-LI",
        urgency="routine",
        summary=None,
        dates={},
        requires_acknowledgement=False,
        escalate_to=None,
        delivered_at=AT,
        rules_version=rules_version,
    )


def webhook_delivery(rule_set_version: str | None) -> Delivery:
    delivery = Delivery(
        notification_id=uuid4(),
        subscription_id=uuid4(),
        recipient="staff:SW-NS-LI",
        channel="webhook",
        urgency="routine",
        patient_id=uuid4(),
        about_event_id=uuid4(),
        about_event_type="CaseManagerAssigned",
        due_at=AT,
        traceparent=TRACEPARENT,
        rule_set_version=rule_set_version,
    )
    delivery.start_attempt(AT, AT)
    delivery.succeed(AT)
    return delivery


def test_an_inbox_delivery_names_the_rule_set_in_force() -> None:
    version = default_table().version
    assert version == "nhc-2018/4"  # the one version every service's decisions name
    assert delivered(notification(version)).rule_set_version == version


def test_a_channel_delivery_names_the_rule_set_its_notification_was_planned_under() -> None:
    assert delivered(webhook_delivery("nhc-2018/4")).rule_set_version == "nhc-2018/4"


def test_a_delivery_scheduled_before_it_kept_the_rule_set_publishes_none() -> None:
    restored = as_stored_before(
        webhook_delivery("nhc-2018/4").collect_events()[0], "rule_set_version", class_version=2
    )
    assert isinstance(restored, Delivery.Scheduled)
    delivery = restored.mutate(None)
    assert isinstance(delivery, Delivery)
    delivery.start_attempt(AT, AT)
    delivery.succeed(AT)
    published = [to_integration_event(e) for e in delivery.collect_events()]
    payloads = [o.payload for o in published if o is not None]
    assert [p.rule_set_version for p in payloads if isinstance(p, NotificationDelivered)] == [None]
