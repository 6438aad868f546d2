"""Notifications as a process on the real broker: consumed twice, or killed mid-send, it tells
each recipient once per channel.

The upstream events are produced onto their topics as the producers would; a real HTTP server
on 127.0.0.1 receives the webhooks. Each webhook carries its delivery id (`webhook-id`), by
which a receiver drops the one repeat a crash mid-send can cause.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from carenet_kit.wire import Headers

from ..e2e.conftest import eventually
from .test_notifications_delivery import MESSAGES, WebhookReceiver
from .test_services import Harness, start_service

RECIPIENT = "staff:SW-NS-LI"  # the case manager in the committed sample messages


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def notifications(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Harness]:
    env = {
        "CARENET_PERSISTENCE": "sqlite",
        "CARENET_SCHEDULER_SECONDS": "0.1",
        "CARENET_ATTEMPT_LEASE_SECONDS": "1",
    }
    yield from start_service("notifications", kafka_bootstrap, env, tmp_path)


def produce(service: Harness, name: str, patient: str, **data: Any) -> tuple[bytes, bytes, Headers]:
    """A committed sample message about `patient`, as its producer would publish it; returns
    what went onto the topic."""
    raw = json.loads((MESSAGES / f"{name}.v1.json").read_text())
    raw.update(patient_id=patient, event_id=str(uuid4()))
    raw["data"].update(data)
    return service.publish(raw["producer"], json.dumps(raw).encode())


def subscribe(service: Harness, url: str) -> None:
    with service.client("SW-NS-LI") as http:  # the recipient subscribes themselves
        response = http.post(
            "/v1/subscriptions", json={"recipient": RECIPIENT, "channel": "webhook", "url": url}
        )
    assert response.status_code == 201, response.text


def webhook_ids(receiver: WebhookReceiver, patients: set[str]) -> list[str]:
    return [
        r.headers["webhook-id"]
        for r in receiver.accepted()
        if json.loads(r.body)["patient_id"] in patients
    ]


def delivered(service: Harness, patients: set[str]) -> Counter[tuple[str, str, str]]:
    return Counter(
        (str(m.patient_id), m.data.about_event_type, m.data.channel)
        for m in service.published("notifications")
        if m.event_type == "NotificationDelivered" and str(m.patient_id) in patients
    )


def test_an_event_consumed_twice_is_delivered_once_per_recipient_and_channel(
    notifications: Harness, receiver: WebhookReceiver
) -> None:
    subscribe(notifications, receiver.url)
    patient = str(uuid4())
    published = produce(notifications, "CaseManagerAssigned", patient)
    notifications.produce("casework", *published)  # redelivered at a new offset
    # A later event of the same patient, on the same partition: once it is delivered, so is
    # anything the repeated event could have caused.
    produce(notifications, "FollowUpScheduled", patient)

    eventually(lambda: len(webhook_ids(receiver, {patient})) >= 2 or None, timeout=60)
    eventually(lambda: delivered(notifications, {patient}).total() >= 4 or None)
    assert delivered(notifications, {patient}) == {
        (patient, "CaseManagerAssigned", "inbox"): 1,
        (patient, "CaseManagerAssigned", "webhook"): 1,
        (patient, "FollowUpScheduled", "inbox"): 1,
        (patient, "FollowUpScheduled", "webhook"): 1,
    }
    assert len(webhook_ids(receiver, {patient})) == 2


def test_a_restart_mid_send_loses_nothing_and_repeats_nothing(
    notifications: Harness, receiver: WebhookReceiver
) -> None:
    receiver.delay_seconds = 0.2  # slow enough that the kill lands mid-way
    subscribe(notifications, receiver.url)
    patients = {str(uuid4()) for _ in range(12)}
    for patient in patients:
        produce(notifications, "CaseManagerAssigned", patient)

    eventually(lambda: len(receiver.accepted()) >= 3 or None, timeout=60)
    notifications.process.kill()  # SIGKILL: no shutdown code runs
    sent_before_the_crash = len(receiver.accepted())
    notifications.process.start()
    notifications.process.wait_ready(timeout=120)

    # The restarted consumer may wait out the killed one's session before it is given the
    # partitions again; on a loaded machine that takes a while.
    eventually(lambda: len(set(webhook_ids(receiver, patients))) == 12 or None, timeout=240)
    eventually(lambda: delivered(notifications, patients).total() >= 24 or None, timeout=60)
    assert set(delivered(notifications, patients).values()) == {1}
    assert {channel for _, _, channel in delivered(notifications, patients)} == {
        "inbox",
        "webhook",
    }
    assert sent_before_the_crash < 12
    # At most the one send in flight at the kill is repeated, with the same id (dropped by it).
    ids = webhook_ids(receiver, patients)
    assert len(ids) - len(set(ids)) <= 1
