"""What notifications is asked to do by the events it consumes (`policy` builds it from them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from carenet_contracts import Payload


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell whoever the rule table names of a care event; keep what it says about the circle.

    The event stays the contract's payload: the rule table is data written in the contracts'
    own words (event types, fields), checked against them when it loads.
    """

    event_id: UUID
    """Names the notifications about the event: told again, nobody is told twice."""
    patient_id: UUID
    event: Payload
    occurred_at: datetime
    """When the event happened (not when it was recorded): orders consents and withdrawals."""

    @property
    def event_type(self) -> str:
        return self.event.event_type
