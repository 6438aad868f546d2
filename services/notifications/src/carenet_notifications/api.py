"""Notifications' HTTP API: read an inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from carenet_kit.http import from_app_state
from carenet_notifications.projection import Inboxes

router = APIRouter(prefix="/v1", tags=["notifications"])


class InboxItemOut(BaseModel):
    notification_id: UUID
    delivered_at: datetime
    patient_id: UUID
    about_event_id: UUID
    about_event_type: str
    urgency: str
    summary: str


@router.get("/inbox", response_model=list[InboxItemOut])
async def read_inbox(
    inboxes: Annotated[Inboxes, from_app_state("projection")],
    recipient: Annotated[
        str,
        Query(
            pattern=r"^(center|staff|role):[A-Za-z0-9_./-]{1,128}$",
            examples=[
                "staff:SW-NS-LI",
                "center:CHC-NS-NANTOU",
                "role:CHC-NS-NANTOU/community_doctor",
            ],
        ),
    ],
) -> list[InboxItemOut]:
    return [InboxItemOut(**item.__dict__) for item in inboxes.inbox(recipient)]
