"""The access log every service keeps: each read of a patient's record, granted or refused.

A read is recorded in the service's own store and published, as a `RecordAccessed` on the
service's own topic, through the same outbox as everything else, before the answer leaves:
a read that cannot be recorded is not answered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, DomainEventProtocol, event

from carenet_contracts.access import AccessPurpose, RecordAccessed
from carenet_kit.outbox import Outgoing


@dataclass(frozen=True)
class AccessEntry:
    """Who asked for what of which patient, why, and whether it was given."""

    patient_id: UUID
    reader_id: str
    reader_organisation: str
    reader_role: str
    record: str
    access: str
    purpose: AccessPurpose
    granted: bool
    emergency_access_id: UUID | None = None


class RecordAccess(Aggregate):
    """One read of one patient's record; an aggregate of its own, so reads never contend."""

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    class Recorded(Aggregate.Created):
        patient_id: UUID
        reader_id: str
        reader_organisation: str
        reader_role: str
        record: str
        access: str
        purpose: AccessPurpose
        granted: bool
        emergency_access_id: UUID | None

    @event(Recorded)
    def __init__(
        self,
        patient_id: UUID,
        reader_id: str,
        reader_organisation: str,
        reader_role: str,
        record: str,
        access: str,
        purpose: AccessPurpose,
        granted: bool,
        emergency_access_id: UUID | None,
    ) -> None:
        self.patient_id = patient_id

    @classmethod
    def of(cls, entry: AccessEntry) -> RecordAccess:
        return cls(**asdict(entry))


def published(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    """The `RecordAccessed` a recorded read becomes; None for any other event."""
    if not isinstance(domain_event, RecordAccess.Recorded):
        return None
    e = domain_event
    return Outgoing(
        patient_id=e.patient_id,
        occurred_at=e.timestamp,
        payload=RecordAccessed(
            reader_id=e.reader_id,
            reader_organisation=e.reader_organisation,
            reader_role=e.reader_role,
            record=e.record,
            access=e.access,
            purpose=e.purpose,
            outcome="granted" if e.granted else "denied",
            emergency_access_id=e.emergency_access_id,
        ),
    )
