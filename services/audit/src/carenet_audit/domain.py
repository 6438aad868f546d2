"""The audit service's own facts: someone asked for a patient's history; someone broke the glass."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from carenet_contracts.audit import Purpose


class HistoryRead(Aggregate):
    """One request for one patient's history, granted or denied; recorded before any answer."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    class Recorded(Aggregate.Created):
        patient_id: UUID
        reader_id: str
        reader_organisation: str
        reader_role: str
        purpose: Purpose
        justification: str
        as_of: datetime | None
        granted: bool
        events_returned: int

    @event(Recorded)
    def __init__(
        self,
        patient_id: UUID,
        reader_id: str,
        reader_organisation: str,
        reader_role: str,
        purpose: Purpose,
        justification: str,
        as_of: datetime | None,
        granted: bool,
        events_returned: int,
    ) -> None:
        # The request's facts stay in its event, which the outbox publishes; none is read back.
        self.patient_id = patient_id


class EmergencyAccess(Aggregate):
    """Break the glass: one clinician's time-limited access to one patient, for a reason."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    class Granted(Aggregate.Created):
        patient_id: UUID
        reader_id: str
        reader_organisation: str
        reader_role: str
        reason: str
        expires_at: datetime

    @event(Granted)
    def __init__(
        self,
        patient_id: UUID,
        reader_id: str,
        reader_organisation: str,
        reader_role: str,
        reason: str,
        expires_at: datetime,
    ) -> None:
        self.patient_id = patient_id
        self.expires_at = expires_at
