"""Channels beyond the inbox: what a message says, and the senders that carry it.

A message says only what its recipient may see: the pseudonymous patient id, the event type,
dates, urgency, a summary (for a relative only when their consent allows it) and a link to the
inbox item. Never a name, an address or a national id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID, uuid4

from carenet_kit import fail_points
from carenet_notifications.domain import Notification
from carenet_notifications.domain.subscriptions import Subscription


@dataclass(frozen=True)
class Message:
    delivery_id: UUID
    """The idempotency key a receiver uses to drop a repeat (`webhook-id`, `Message-ID`)."""
    body: dict[str, Any]

    @property
    def subject(self) -> str:
        urgency = "URGENT" if self.body["urgency"] == "urgent" else "routine"
        return f"[CareNet] {urgency}: {self.body['event_type']}"


def message_of(notification: Notification, delivery_id: UUID, public_url: str) -> Message:
    link = (
        f"{public_url.rstrip('/')}/v1/inbox/{notification.id}"
        f"?recipient={quote(notification.recipient, safe='')}"
    )
    return Message(
        # the idempotency key; a new one per attempt only in a fault test's negative control
        delivery_id=delivery_id if fail_points.guarded("stable-delivery-id") else uuid4(),
        body={
            "type": "carenet.notification",
            "notification_id": str(notification.id),
            "recipient": notification.recipient,
            "patient_id": str(notification.patient_id),
            "event_type": notification.about_event_type,
            "event_id": str(notification.about_event_id),
            "urgency": notification.urgency,
            "requires_acknowledgement": notification.requires_acknowledgement,
            "summary": notification.summary,
            "dates": notification.dates,
            "notified_at": notification.delivered_at.isoformat(),
            "inbox_url": link,
        },
    )


class SendFailed(Exception):
    """A send did not succeed; the text is a reason fit to publish (no address, no body)."""


class Sender(Protocol):
    def send(self, message: Message, subscription: Subscription) -> None:
        """Deliver or raise `SendFailed`."""
        ...
