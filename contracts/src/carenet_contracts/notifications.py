"""What notifications publishes: who was told what, through which channel."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from carenet_contracts.envelope import Payload, Producer


class NotificationDelivered(Payload):
    """A notification reached its recipient: in their inbox, or over a subscribed channel."""

    event_type: ClassVar[str] = "NotificationDelivered"
    producer: ClassVar[Producer] = "notifications"

    notification_id: UUID
    recipient: str = Field(description="A staff member or a role at an organisation.")
    channel: str
    urgency: str
    about_event_id: UUID
    about_event_type: str
    rule_set_version: str | None = Field(
        default=None,
        description="The version of the rule set whose notification rules named the recipient "
        "(absent from deliveries published before notifications named it).",
    )


class NotificationFailed(Payload):
    """A channel gave up on a notification after its attempts; it waits for redelivery."""

    event_type: ClassVar[str] = "NotificationFailed"
    producer: ClassVar[Producer] = "notifications"

    notification_id: UUID
    recipient: str
    channel: str
    attempts: int = Field(ge=1)
    reason: str
    about_event_id: UUID
    about_event_type: str
    delivery_id: UUID | None = Field(
        default=None, description="The failed delivery, to ask for its redelivery by API."
    )


class NotificationAcknowledged(Payload):
    """The recipient of an urgent notification confirmed they have seen it."""

    event_type: ClassVar[str] = "NotificationAcknowledged"
    producer: ClassVar[Producer] = "notifications"

    notification_id: UUID
    recipient: str
    about_event_id: UUID


class NotificationEscalated(Payload):
    """An urgent notification stayed unacknowledged too long; the center's lead is told."""

    event_type: ClassVar[str] = "NotificationEscalated"
    producer: ClassVar[Producer] = "notifications"

    notification_id: UUID
    recipient: str
    escalated_to: str
    unacknowledged_for_minutes: int = Field(ge=0)
    about_event_id: UUID
