"""The dispatcher counts its delivery attempts per channel and outcome, for `GET /metrics`, and
each attempt continues the trace of the message that caused the notification.

In one process with a real SQLite store and a real webhook receiver, time moved by hand (the
fixtures of `test_notifications_delivery.py`).
"""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from carenet_kit import tracing
from carenet_kit.outbox import PublishedStream

from .test_notifications_delivery import (
    CASE_MANAGER,
    OPERATOR,
    RETRY_MAX,
    Notifications,
    WebhookReceiver,
    notifications,
    receiver,
    smtp,
    subscribe,
    webhook_gives_up,
)

__all__ = ["notifications", "receiver", "smtp"]  # the fixtures this module uses


def attempts(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "carenet_notification_deliveries_total", {"channel": "webhook", "outcome": outcome}
    )
    return value or 0.0


def test_delivery_attempts_are_counted_per_channel_and_outcome(
    notifications: Notifications, receiver: WebhookReceiver
) -> None:
    before = {o: attempts(o) for o in ("delivered", "failed", "gave_up")}
    webhook_gives_up(notifications, receiver)
    moved = {o: attempts(o) - before[o] for o in before}
    assert moved == {"delivered": 0, "failed": 4, "gave_up": 1}

    (gave_up,) = notifications.published("NotificationFailed")
    redelivery = f"/v1/deliveries/{gave_up.data.delivery_id}/redelivery"
    assert notifications.http(OPERATOR).post(redelivery).status_code == 202
    assert notifications.run_due_work() == 1
    assert attempts("delivered") - before["delivered"] == 1

    scraper = TestClient(notifications.service.http_api())  # no token; no lifespan (no Kafka)
    exposed = scraper.get("/metrics")
    assert exposed.status_code == 200
    deliveries = {
        (s.labels["channel"], s.labels["outcome"])
        for family in text_string_to_metric_families(exposed.text)
        for s in family.samples
        if s.name == "carenet_notification_deliveries_total"
    }
    assert {("webhook", "delivered"), ("webhook", "failed"), ("webhook", "gave_up")} <= deliveries


def traces_of_published(n: Notifications, event_type: str) -> list[str | None]:
    """The trace ids the relay would put in the `traceparent` header of each such message."""
    topic = get_topic(PublishedStream.Appended)
    found = []
    for record in n.app.process_recorder.select_notifications(0, 100_000, topics=[topic]):
        appended = n.app.mapper.to_domain_event(record)
        assert isinstance(appended, PublishedStream.Appended)
        if f'"event_type":"{event_type}"' in appended.message:
            found.append(appended.traceparent and appended.traceparent.split("-")[1])
    return found


def test_a_webhook_delivery_continues_the_trace_of_the_message_that_caused_it(
    notifications: Notifications, receiver: WebhookReceiver
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    receiver.failures = 1
    subscribe(notifications, "staff:SW-NS-LI", CASE_MANAGER, channel="webhook", url=receiver.url)
    with tracing.consuming("casework", f"00-{trace_id}-00f067aa0ba902b7-01"):
        notifications.consume("CaseManagerAssigned", uuid4())
    assert notifications.run_due_work() == 1  # fails: the retry comes later, outside any span
    notifications.later(RETRY_MAX)
    assert [r.status for r in receiver.requests] == [503, 204]
    assert traces_of_published(notifications, "NotificationDelivered") == [trace_id, trace_id]
