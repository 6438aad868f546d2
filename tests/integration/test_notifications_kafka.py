"""Notifications as a process on the real broker: consumed twice, or dying mid-send, it tells
each recipient once per channel.

The upstream events are produced onto their topics as the producers would; a real HTTP server
on 127.0.0.1 receives the webhooks. Each webhook carries its delivery id (`webhook-id`), by
which a receiver drops the one repeat a crash mid-send can cause: the crash is placed there by
a fail point (`carenet_kit.fail_points`), and its negative control turns the stable id off.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from carenet_kit.fail_points import EXIT_STATUS
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


SETTINGS = {
    "CARENET_PERSISTENCE": "sqlite",
    "CARENET_SCHEDULER_SECONDS": "0.1",
    "CARENET_ATTEMPT_LEASE_SECONDS": "1",
}


@pytest.fixture
def notifications(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("notifications", kafka_bootstrap, SETTINGS, tmp_path)


@pytest.fixture
def armed_notifications(
    kafka_bootstrap: str, tmp_path: Path, armed: dict[str, str]
) -> Iterator[Harness]:
    """Notifications with fail points and guards (`armed`, parametrized by the test)."""
    yield from start_service("notifications", kafka_bootstrap, SETTINGS | armed, tmp_path)


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


def crashed_mid_send(service: Harness, receiver: WebhookReceiver) -> tuple[set[str], list[str]]:
    """Notifications armed to die once a webhook receiver has taken its third notification,
    before the delivery records it (`notifications.sent:3`), and started again unarmed: the
    patients, and the `webhook-id` of everything the receiver took about them."""
    subscribe(service, receiver.url)
    patients = {str(uuid4()) for _ in range(12)}
    for patient in patients:
        produce(service, "CaseManagerAssigned", patient)
    process = service.process
    assert process.process is not None
    assert process.process.wait(timeout=120) == EXIT_STATUS  # it died exactly there
    process.env = {k: v for k, v in process.env.items() if k != "CARENET_FAIL_POINTS"}
    process.start()
    process.wait_ready(timeout=120)
    # The restarted consumer may wait out the killed one's session before it is given the
    # partitions again; on a loaded machine that takes a while.
    eventually(lambda: delivered(service, patients).total() >= 24 or None, timeout=240)
    assert set(delivered(service, patients).values()) == {1}
    assert {channel for _, _, channel in delivered(service, patients)} == {"inbox", "webhook"}
    return patients, webhook_ids(receiver, patients)


@pytest.mark.parametrize("armed", [{"CARENET_FAIL_POINTS": "notifications.sent:3"}])
def test_a_crash_mid_send_repeats_one_webhook_with_its_id(
    armed_notifications: Harness, receiver: WebhookReceiver
) -> None:
    patients, ids = crashed_mid_send(armed_notifications, receiver)
    assert len(set(ids)) == len(patients)  # each patient's notification, under one id
    assert len(ids) == len(patients) + 1  # the one taken at the crash came again (dropped)


@pytest.mark.parametrize(
    "armed",
    [{"CARENET_FAIL_POINTS": "notifications.sent:3", "CARENET_UNGUARDED": "stable-delivery-id"}],
)
def test_without_a_stable_delivery_id_the_repeat_reads_as_a_second_notification(
    armed_notifications: Harness, receiver: WebhookReceiver
) -> None:
    """The negative control: a new id per attempt, and the receiver cannot drop the repeat."""
    patients, ids = crashed_mid_send(armed_notifications, receiver)
    assert len(set(ids)) == len(patients) + 1
