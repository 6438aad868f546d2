"""What notifications publishes: who was told what, through which channel."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from carenet_contracts.envelope import Payload, Producer


class NotificationDelivered(Payload):
    """A notification landed in its recipient's inbox."""

    event_type: ClassVar[str] = "NotificationDelivered"
    producer: ClassVar[Producer] = "notifications"

    notification_id: UUID
    recipient: str = Field(description="A staff member or a role at an organisation.")
    channel: str
    urgency: str
    about_event_id: UUID
    about_event_type: str
