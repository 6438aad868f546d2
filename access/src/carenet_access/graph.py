"""The care network in memory, loaded from the topics at start and kept current from them.

It holds only who is related to which patient (organisation and person ids, consent scopes,
grants), no personal data, and the topics keep everything: so it lives in memory and is read
again from the beginning at every start. A service is not ready before it has caught up.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Sequence
from uuid import UUID

from carenet_access.relations import CareNetwork, PatientRelations
from carenet_kit.admission import Stream, StreamPosition, StreamTracking
from carenet_kit.batches import BatchConsumer, Delivered
from carenet_kit.settings import ServiceSettings

SOURCES = ("intake", "routing", "casework", "audit")
"""The producers whose events say who is related to a patient."""


class AccessGraph:
    """A `BatchSink` for the kit's `BatchConsumer`, with the positions it has read in memory:
    the partitions' offsets and the streams' sequences. It grants access from what it reads, so
    it takes only messages the consumer has verified and placed in their streams."""

    def __init__(self) -> None:
        self._network = CareNetwork()
        self._positions: dict[str, int] = {}
        self._streams: dict[Stream, StreamPosition] = {}
        self._lock = threading.Lock()

    def max_tracking_id(self, application_name: str) -> int | None:
        with self._lock:
            return self._positions.get(application_name)

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        with self._lock:
            return {s: self._streams[s] for s in streams if s in self._streams}

    def write(self, messages: Sequence[Delivered], tracking: StreamTracking) -> None:
        with self._lock:
            last = self._positions.get(tracking.application_name, -1)
            for message in messages:
                if message.record.offset > last:
                    self._network.apply(message.envelope)
            self._positions[tracking.application_name] = tracking.notification_id
            self._streams.update((p.stream, p) for p in tracking.positions)

    def relations(self, patient_id: UUID) -> PatientRelations | None:
        """A copy of the patient's relations, or None if the network has not heard of them."""
        with self._lock:
            return copy.deepcopy(self._network.relations(patient_id))

    def patient_of_case(self, case_id: UUID) -> UUID | None:
        with self._lock:
            return self._network.cases.get(case_id)

    def patient_of_referral(self, referral_id: UUID) -> UUID | None:
        with self._lock:
            return self._network.referrals.get(referral_id)

    def patients(self) -> list[UUID]:
        with self._lock:
            return list(self._network.patients)


def graph_loader(settings: ServiceSettings, graph: AccessGraph) -> BatchConsumer:
    return BatchConsumer(
        name=f"{settings.consumer_group}-access",
        bootstrap=settings.kafka_bootstrap,
        topics=[settings.topic(producer) for producer in SOURCES],
        sink=graph,
        dead_letter_topic=settings.dead_letter_topic,
        gate=settings.gate(),
        security=settings.kafka_security(),
    )
