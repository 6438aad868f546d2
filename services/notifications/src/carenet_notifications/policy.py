"""Notifications' inbound policy: the one table of the integration events notifications acts
on, each translated into the command it asks for. Every care event is one: the rule table,
which is data, says who hears of it."""

from __future__ import annotations

from typing import Any

from carenet_contracts import Envelope, Payload
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.commands import Notify


def policy(app: NotificationsApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        match envelope.data:
            case Payload() as e:
                app.notify_of(
                    Notify(
                        event_id=envelope.event_id,
                        patient_id=envelope.patient_id,
                        event=e,
                        occurred_at=envelope.occurred_at,
                    ),
                    cause,
                )

    return handle
