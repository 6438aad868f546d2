"""One patient's pathway as a FHIR R4 transaction Bundle a hospital system can import.

Built from the patient's integration events of every producer and validated with the
`fhir.resources` R4B models: R4B changed only the medication-definition, evidence and
subscription resources, so every resource used here (Patient, Condition, EpisodeOfCare,
Encounter, CarePlan, Goal, CareTeam, ServiceRequest, Task, Communication, RelatedPerson, Flag,
Organization, Practitioner, Device, Provenance, Bundle) reads the same in R4. See `export.py`
for why a transaction of conditional writes, and `pathway.py` and the handler modules for each
event type.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from fhir.resources.R4B.bundle import Bundle

from carenet_audit_tool.fhir import (
    community,
    hospital,
    notifications,
    recovery_plan,
    screening,
    social_services,
)
from carenet_audit_tool.fhir.pathway import HANDLERS, UNMAPPED, Pathway
from carenet_contracts import Envelope
from carenet_kit.signing import Signature

__all__ = ["HANDLERS", "UNMAPPED", "patient_bundle"]
_REGISTERED = (
    community,
    hospital,
    notifications,
    recovery_plan,
    screening,
    social_services,
)  # importing them registers their handlers


def patient_bundle(
    envelopes: Iterable[Envelope[Any]], signatures: Mapping[UUID, Signature] | None = None
) -> Bundle:
    """The Bundle of one patient's events (in any order; duplicates count once).

    `signatures` (by event id, from the messages' headers) go into each event's Provenance.
    The same events give the same Bundle, byte for byte.
    """
    events = {e.event_id: e for e in envelopes}
    patients = {e.patient_id for e in events.values()}
    if len(patients) != 1:
        raise ValueError(f"expected the events of one patient, got {len(patients)} patients")
    pathway = Pathway(patients.pop())
    for envelope in _as_learnt(events.values()):
        handler = HANDLERS.get(type(envelope.data))
        if handler is None:
            continue  # UNMAPPED: no FHIR counterpart
        targets = handler(pathway, envelope, envelope.data)
        pathway.came_from(
            envelope,
            targets,
            (signatures or {}).get(envelope.event_id),
            _acting_organisation(envelope.data),
        )
    return pathway.bundle(timestamp=max(e.recorded_at for e in events.values()))


def _as_learnt(envelopes: Iterable[Envelope[Any]]) -> Iterable[Envelope[Any]]:
    """Every stream in its own sequence, the streams merged in the order they were recorded."""
    streams: dict[str, list[Envelope[Any]]] = {}
    for envelope in envelopes:
        streams.setdefault(envelope.producer, []).append(envelope)
    ordered = [sorted(s, key=lambda e: e.sequence) for _, s in sorted(streams.items())]
    return heapq.merge(*ordered, key=lambda e: (e.recorded_at, e.producer))


def _acting_organisation(data: object) -> str | None:
    """The organisation the producing service acted for, where the event names one."""
    for field in ("hospital_id", "center_id", "from_center_id", "to_center_id"):
        value = getattr(data, field, None)
        if isinstance(value, str):
            return value
    return None
