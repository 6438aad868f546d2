"""One patient's history across every producer, and what the network knew at a moment.

Pure: it takes parsed envelopes (from the topics, or from the audit read side) and returns
plain data. Entries are ordered by when things happened (`occurred_at`), then by when the
network learnt them (`recorded_at`); producer and sequence only break exact ties, so the order
is the same on every run.

Point in time: `as_of(T)` keeps what had been *recorded* by T. An event that happened before T
but was recorded after it is not in that view (the network did not know it yet); it appears in
every view from its `recorded_at` on. Events recorded long after they happened are marked late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from carenet_audit_tool.describe import Tier, actor_of, rule_versions_of, summary_of, tier_of
from carenet_contracts import Envelope

LATE_AFTER = timedelta(hours=24)
"""Recorded more than this after it happened is late: the pathway's own bar for recording
an emergency, and more than a day for anything dated by the day."""

PRODUCER_ORDER = {"intake": 0, "routing": 1, "casework": 2, "notifications": 3, "audit": 4}

VERIFIED = "verified"
UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Entry:
    """One event of the patient's history, as an auditor reads it."""

    event_id: UUID
    event_type: str
    schema_version: int
    producer: str
    tier: Tier
    summary: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None
    rule_versions: Mapping[str, str]
    sequence: int
    correlation_id: UUID
    causation_id: UUID | None
    late: bool
    signature: str
    """`verified`, `unchecked` (no key set given), or why the signature does not hold."""

    @property
    def delay(self) -> timedelta:
        """How long after it happened the network learnt it."""
        return self.recorded_at - self.occurred_at

    @property
    def order(self) -> tuple[datetime, datetime, int, int]:
        return (
            self.occurred_at,
            self.recorded_at,
            PRODUCER_ORDER.get(self.producer, len(PRODUCER_ORDER)),
            self.sequence,
        )


@dataclass(frozen=True)
class Timeline:
    """A patient's entries in order; `point_in_time` is set on an `as_of` view."""

    patient_id: UUID
    entries: tuple[Entry, ...]
    late_after: timedelta = LATE_AFTER
    point_in_time: datetime | None = None
    recorded_later: int = 0
    """How many events of the full history were recorded after `point_in_time`."""

    def as_of(self, moment: datetime) -> Timeline:
        """What the network knew at `moment`: the events recorded by then."""
        if moment.tzinfo is None:
            raise ValueError("a point in time needs a UTC offset")
        known = tuple(e for e in self.entries if e.recorded_at <= moment)
        return replace(
            self,
            entries=known,
            point_in_time=moment,
            recorded_later=self.recorded_later + len(self.entries) - len(known),
        )

    @property
    def tiers(self) -> dict[Tier, list[Entry]]:
        lanes: dict[Tier, list[Entry]] = {tier: [] for tier in Tier}
        for entry in self.entries:
            lanes[entry.tier].append(entry)
        return lanes


def build_timeline(
    patient_id: UUID,
    envelopes: Iterable[Envelope[Any]],
    *,
    signatures: Mapping[UUID, str] | None = None,
    late_after: timedelta = LATE_AFTER,
) -> Timeline:
    """The patient's timeline from envelopes of any producers, in any order.

    Envelopes of other patients are left out; an event seen twice (a redelivery) counts once.
    `signatures` maps an event id to its check (`verified` or the problem found).
    """
    unique: dict[UUID, Envelope[Any]] = {}
    for envelope in envelopes:
        if envelope.patient_id == patient_id:
            unique.setdefault(envelope.event_id, envelope)
    # notifications sit in the lane of the event they are about: place the others first
    tiers: dict[str, Tier] = {}
    for envelope in unique.values():
        if envelope.producer != "notifications":
            tiers[str(envelope.event_id)] = tier_of(envelope, {})
    entries = [
        Entry(
            event_id=e.event_id,
            event_type=e.event_type,
            schema_version=e.schema_version,
            producer=e.producer,
            tier=tiers.get(str(e.event_id)) or tier_of(e, tiers),
            summary=summary_of(e.data),
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            actor=actor_of(e.data),
            rule_versions=rule_versions_of(e),
            sequence=e.sequence,
            correlation_id=e.correlation_id,
            causation_id=e.causation_id,
            late=e.recorded_at - e.occurred_at > late_after,
            signature=(signatures or {}).get(e.event_id, UNCHECKED),
        )
        for e in unique.values()
    ]
    entries.sort(key=lambda entry: entry.order)
    return Timeline(patient_id, tuple(entries), late_after)
