"""The dispatcher counts its delivery attempts per channel and outcome, for `GET /metrics`.

In one process with a real SQLite store and a real webhook receiver, time moved by hand (the
fixtures of `test_notifications_delivery.py`).
"""

from __future__ import annotations

from uuid import uuid4

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

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
    receiver.failures = 5
    subscribe(notifications, "staff:SW-NS-LI", CASE_MANAGER, channel="webhook", url=receiver.url)
    notifications.consume("CaseManagerAssigned", uuid4())
    notifications.run_due_work()
    for _ in range(6):
        notifications.later(RETRY_MAX)
    assert len(receiver.requests) == 5
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
