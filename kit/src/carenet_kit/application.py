"""The base of every service's `eventsourcing` Application: commit with outbox and tracking."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    JSONTranscoder,
    ProcessRecorder,
    Transcoding,
)
from eventsourcing.utils import Environment
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from carenet_contracts import Producer
from carenet_kit import access_log, group_commit
from carenet_kit.access_log import AccessEntry, RecordAccess
from carenet_kit.admission import Stream, StreamPosition
from carenet_kit.clock import Clock, SystemClock
from carenet_kit.consumed_streams import StreamPositions
from carenet_kit.keystore import NewKey
from carenet_kit.lease import creating_tables
from carenet_kit.outbox import Cause, Outgoing, PublishedStream
from carenet_kit.service_recorder import service_process_recorder
from carenet_kit.signing import Signer

OutboundMapper = Callable[[DomainEventProtocol[UUID]], Outgoing | None]


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ServiceApplication(Application[UUID]):
    """Stores domain events, their integration events and the inbound tracking atomically.

    Every change goes through `commit()`: the service's outbound mapper picks which new domain
    events become integration events, they are appended to the patient's `PublishedStream`,
    and everything, with the Kafka position that caused it, is recorded in ONE transaction.
    Each message is signed with the service's key (`CARENET_SIGNING_KEY` in `env`).
    """

    producer: ClassVar[Producer]
    snapshotting_intervals: ClassVar = {PublishedStream: 20}
    """A patient's outbox stream takes a message for every event published and every read of
    the record logged, without end: each commit loads it from a snapshot and at most 19 of its
    events, not its whole history. A subclass adds its own aggregates to these."""

    def __init__(
        self, env: dict[str, str], outbound: OutboundMapper, clock: Clock | None = None
    ) -> None:
        with creating_tables(env):
            super().__init__(env)
        self._outbound = outbound
        self.clock = clock or SystemClock()
        self.signer = Signer.from_env(self.env, self.producer)

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        """The library's factory; on SQLite, with a datastore whose transactions can be grouped
        (`carenet_kit.group_commit`: one commit for a consumed batch)."""
        factory = super().construct_factory(env)
        group_commit.install(factory)
        return factory

    def construct_recorder(self) -> ProcessRecorder:
        """The library's process recorder, keeping in the transaction of a command's events the
        positions of the inbound streams and the keys it made (`carenet_kit.service_recorder`)."""
        return service_process_recorder(self.factory)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def commit(self, *aggregates: Aggregate, cause: Cause, new_keys: Sequence[NewKey] = ()) -> None:
        """Record the aggregates' new events, their outbox messages, the cause's tracking
        record and the keys the command made (`KeyStore.make`) in one transaction."""
        processing = ProcessingEvent[UUID](tracking=cause.tracking)
        processing.collect_events(*aggregates, new_keys=tuple(new_keys))
        streams: dict[UUID, PublishedStream] = {}
        for domain_event in list(processing.events):
            outgoing = access_log.published(domain_event) or self._outbound(domain_event)
            if outgoing is None:
                continue
            stream = streams.get(outgoing.patient_id) or self._stream(outgoing.patient_id)
            streams[outgoing.patient_id] = stream
            stream.publish(outgoing, cause, self.signer)
        processing.collect_events(*streams.values())
        recordings = self._record(processing)
        self._take_snapshots(
            processing
        )  # as `Application.save()` does, for `snapshotting_intervals`
        self._notify(recordings)

    @retry(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(5), reraise=True)
    def record_accesses(self, entries: Sequence[AccessEntry], cause: Cause) -> None:
        """Record reads of patients' records in one transaction (see `access_log`). Two reads
        of one patient at once contend for its outbox stream; the loser records again."""
        if entries:
            self.commit(*(RecordAccess.of(entry) for entry in entries), cause=cause)

    def find(self, aggregate_id: UUID) -> Any:
        """The aggregate, or None if it was never recorded (one read, unlike `in` + `get`)."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def is_tracked(self, application_name: str, position: int) -> bool:
        return self.process_recorder.has_tracking_id(application_name, position)

    def stream_position(self, stream: Stream) -> StreamPosition | None:
        """The last message taken from an inbound (producer, patient) stream, if any."""
        positions: StreamPositions = self.recorder  # type: ignore[assignment]
        return positions.stream_positions([stream]).get(stream)

    def _stream(self, patient_id: UUID) -> PublishedStream:
        stream: PublishedStream | None = self.find(
            PublishedStream.create_id(self.producer, patient_id)
        )
        return stream or PublishedStream(self.producer, patient_id)
