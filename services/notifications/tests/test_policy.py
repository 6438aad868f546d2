"""Notifications' policy turns every care event into the command to notify of it."""

from __future__ import annotations

from typing import cast

import pytest

from carenet_devtools.policies import RecordingApplication, sample
from carenet_kit.outbox import Cause
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.commands import Notify
from carenet_notifications.policy import policy


@pytest.mark.parametrize(
    "event_type", ["DiagnosisRecorded", "PatientRouted", "VisitCompleted", "RecordAccessed"]
)
def test_every_event_consumed_asks_to_notify_of_it_as_it_came(event_type: str) -> None:
    app = RecordingApplication()
    envelope = sample(event_type)
    policy(cast(NotificationsApplication, app))(envelope, Cause.request())
    [(method, command)] = app.calls
    assert method == "notify_of"
    assert command == Notify(
        event_id=envelope.event_id,
        patient_id=envelope.patient_id,
        event=envelope.data,
        occurred_at=envelope.occurred_at,
    )
    assert isinstance(command, Notify)
    assert command.event_type == event_type
