"""Notifications' inbound policy: every care event is checked against the rule table."""

from __future__ import annotations

from typing import Any

from carenet_contracts import Envelope
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause
from carenet_notifications.application import NotificationsApplication


def policy(app: NotificationsApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        app.handle(envelope, cause)

    return handle
