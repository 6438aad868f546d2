"""The audit service's one fact of its own: someone asked for a patient's history."""

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
        self.patient_id = patient_id
        self.reader_id = reader_id
        self.reader_organisation = reader_organisation
        self.reader_role = reader_role
        self.purpose = purpose
        self.justification = justification
        self.as_of = as_of
        self.granted = granted
        self.events_returned = events_returned
