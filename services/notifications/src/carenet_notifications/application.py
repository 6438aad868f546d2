"""Notifications' service layer: tell the right people, through the right channel, once."""

from __future__ import annotations

from typing import Any, ClassVar

from carenet_contracts import Envelope
from carenet_kit.application import ServiceApplication
from carenet_kit.outbox import Cause
from carenet_notifications import rules
from carenet_notifications.domain import Notification


class NotificationsApplication(ServiceApplication):
    producer: ClassVar = "notifications"

    def deliver(self, envelope: Envelope[Any], cause: Cause) -> None:
        """Deliver every notification the rule table asks for about this event (inbox channel)."""
        notifications = [
            Notification(
                about_event_id=envelope.event_id,
                recipient=planned.recipient,
                about_event_type=envelope.event_type,
                patient_id=envelope.patient_id,
                channel=planned.channel,
                urgency=planned.urgency,
                summary=planned.summary,
                rules_version=rules.RULES_VERSION,
            )
            for planned in rules.plan(envelope)
            if Notification.create_id(envelope.event_id, planned.recipient) not in self.repository
        ]
        if notifications:
            self.commit(*notifications, cause=cause)
