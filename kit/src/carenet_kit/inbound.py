"""Inbound: a faust-streaming agent turns each integration event into a command, exactly once.

Delivery is at least once; the effect is exactly once because the command's events are
recorded with a tracking record (topic:partition, offset) in the same transaction, and a
message whose position is already tracked changes nothing. Before any command, the message must
be admitted (`carenet_kit.admission`): signed by its producer, keyed by its patient, the next
of its stream. A message refused there, one that fails its contract or one the service refuses
(any `carenet_kit.refusals.Refusal`: refused, conflict, not found, gone) goes to the
dead-letter topic with the reason; a storage failure is retried in place, so the
partition waits rather than lose the message.

Messages are taken in batches (`BATCH_MESSAGES`, or what came within `BATCH_SECONDS`), each
message in a worker thread. A message that changes nothing but its own tracking record and
streams (most of what a service reads is not for it) is not committed on its own: it is
deferred (`Deferred`) and recorded in the transaction of the batch's next effect, before it, or
at the end of the batch. faust acknowledges a batch's messages only after the batch, so no
offset is committed to Kafka before the message's tracking record is. Every commit on SQLite
waits for the disk (fsync); this is what makes a message that is not for the service cost
almost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import faust
import structlog
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from carenet_contracts import Envelope
from carenet_kit import fail_points, group_commit, metrics, tracing
from carenet_kit.admission import (
    Admitted,
    Gate,
    Inadmissible,
    Stream,
    StreamPosition,
    StreamTracking,
)
from carenet_kit.application import ServiceApplication
from carenet_kit.dead_letters import DeadLetters
from carenet_kit.inspection import Record
from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity
from carenet_kit.outbox import Cause
from carenet_kit.refusals import Refusal
from carenet_kit.threads import in_thread
from carenet_kit.wire import Headers

log = structlog.get_logger()

Policy = Callable[[Envelope[Any], Cause], None]

BATCH_MESSAGES = 200
"""The most messages the agent takes at once."""
BATCH_SECONDS = 0.05
"""How long the agent waits for a batch to fill: what a message may wait before it is acted on."""


def faust_app(
    consumer_group: str,
    bootstrap: str,
    data_dir: Path,
    security: KafkaSecurity = PLAINTEXT,
    session_timeout_seconds: float = 30.0,
) -> faust.App:
    """The stream app; faust keeps its (unused) table directory under the service's data dir."""
    (data_dir / "faust").mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    return faust.App(
        consumer_group,
        datadir=str(data_dir / "faust" / "{conf.name}"),
        broker=f"kafka://{bootstrap}",
        broker_credentials=security.faust_credentials(),
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        topic_allow_declare=False,  # topics come from deploy/topics.yaml only
        topic_disable_leader=True,
        web_enabled=False,
        autodiscover=False,
        broker_commit_interval=1.0,
        broker_session_timeout=session_timeout_seconds,
    )


@dataclass(frozen=True)
class DeadLetter:
    """Why a message goes to the dead-letter topic, and the tracking record that marks it
    taken (with its stream moved on when the message was genuine and in order)."""

    record: Record
    reason: str
    """A label: `contract`, `rejected`, or why admission refused it."""
    text: str
    tracking: Tracking


@dataclass
class Deferred:
    """The tracking records of a batch's messages that had no effect, not recorded yet, and the
    streams they moved: the next message of such a stream must follow them, not the store."""

    trackings: list[Tracking] = field(default_factory=list)
    positions: dict[Stream, StreamPosition] = field(default_factory=dict)

    def add(self, tracking: Tracking) -> None:
        self.trackings.append(tracking)
        if isinstance(tracking, StreamTracking):
            self.positions.update((p.stream, p) for p in tracking.positions)

    def last(
        self, stored: Callable[[Stream], StreamPosition | None]
    ) -> Callable[[Stream], StreamPosition | None]:
        """The last position of a stream: a deferred one, else the store's."""
        return lambda stream: self.positions.get(stream) or stored(stream)

    def carried_by(self, tracking: StreamTracking) -> StreamTracking:
        """`tracking`, recording the deferred ones first in its transaction."""
        return replace(tracking, earlier=tuple(self.trackings))

    def clear(self) -> None:
        self.trackings.clear()
        self.positions.clear()


class InboundConsumer:
    metrics_name = "inbound"
    """The agent's name in the metrics' `consumer` label (batch consumers use their own)."""

    def __init__(
        self,
        stream_app: faust.App,
        app: ServiceApplication,
        topics: list[str],
        dead_letter_topic: str,
        policy: Policy,
        gate: Gate,
        batch_messages: int = BATCH_MESSAGES,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.stream_app = stream_app
        self.batch_messages = batch_messages
        self.batch_seconds = batch_seconds
        self.app = app
        self.dead_letter_topic = dead_letter_topic
        self.dead_letters = DeadLetters(stream_app.conf.id, self.metrics_name)
        self.policy = policy
        self.gate = gate
        source = stream_app.topic(*topics, key_type=bytes, value_type=bytes)
        stream_app.agent(source, name=f"{stream_app.conf.id}-inbound")(self._consume)

    async def _consume(self, stream: faust.StreamT[bytes]) -> None:
        assert isinstance(stream, faust.Stream)  # `StreamT` does not declare `take_events`
        async for events in stream.take_events(self.batch_messages, within=self.batch_seconds):
            records = [_record(event.message) for event in events]
            for record in records:
                metrics.EVENTS_CONSUMED.labels(self.metrics_name, record.topic).inc()
            await self.take(records)

    async def take(self, records: Sequence[Record]) -> None:
        """Apply a batch of messages in order; returns once every one is tracked. A storage
        failure takes the batch again: what was committed is tracked, and is skipped."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(PersistenceError),
            wait=wait_exponential(max=10),
            before_sleep=lambda state: log.warning("storage unavailable, retrying"),
        ):
            group = group_commit.grouping(self.app.factory)  # a new one for each attempt
            with attempt, group.current():
                try:
                    await self._take(records, group)
                except BaseException:
                    await in_thread(group.rollback)
                    raise

    async def _take(self, records: Sequence[Record], group: group_commit.Group) -> None:
        deferred = Deferred()
        for record in records:
            # a worker thread per message, not per batch: on the machines measured, a thread
            # committing back to back waited longer on each commit (bench P6)
            dead = await in_thread(self._process, record, deferred)
            if dead is not None:
                await in_thread(self._record, deferred)
                await in_thread(group.commit)  # what came before it is kept first
                await self._dead_letter(dead, group)
            elif group.due():
                await in_thread(group.commit)
        await in_thread(self._record, deferred)
        await in_thread(group.commit)
        fail_points.reached("inbound.committed")

    def _record(self, deferred: Deferred) -> None:
        """Record what was deferred, in one transaction."""
        if deferred.trackings:
            *earlier, last = deferred.trackings
            self.app.process_recorder.insert_tracking(
                StreamTracking(
                    last.application_name,
                    last.notification_id,
                    last.positions if isinstance(last, StreamTracking) else (),
                    tuple(earlier),
                )
            )
            deferred.clear()

    def _process(self, record: Record, deferred: Deferred) -> DeadLetter | None:
        """Admit and apply one message; what must go to the dead-letter topic, if anything. A
        message with no effect is left in `deferred`; an effect records what was deferred."""
        tracking = Tracking(f"{record.topic}:{record.partition}", record.offset)
        if self.app.is_tracked(
            tracking.application_name, tracking.notification_id
        ) and fail_points.guarded("inbound-tracking"):
            return None
        verdict = self.gate.admit(record, deferred.last(self.app.stream_position))
        if isinstance(verdict, Inadmissible):
            metrics.MESSAGES_REFUSED.labels(self.metrics_name, record.topic, verdict.reason).inc()
            return DeadLetter(record, verdict.reason, verdict.text, tracking)
        if not isinstance(verdict, Admitted):  # the last message of its stream, redelivered
            deferred.add(tracking)
            return None
        taken = StreamTracking(
            tracking.application_name, tracking.notification_id, (verdict.position,)
        )
        if verdict.envelope is None:
            return DeadLetter(record, "contract", f"contract: {verdict.contract_error}", taken)
        envelope = verdict.envelope
        with (
            tracing.consuming(record.topic, tracing.traceparent_in(record.headers)),
            structlog.contextvars.bound_contextvars(
                event_id=str(envelope.event_id),
                event_type=envelope.event_type,
                patient_id=str(envelope.patient_id),
                correlation_id=str(envelope.correlation_id),
            ),
        ):
            dead = None
            try:
                self.policy(envelope, Cause.inbound(envelope, deferred.carried_by(taken)))
            except Refusal as error:  # every kind: a refusal is never retried nor dropped
                dead = DeadLetter(record, "rejected", f"rejected: {error}", taken)
            if self.app.is_tracked(tracking.application_name, tracking.notification_id):
                deferred.clear()  # recorded with the command's effect
            elif dead is None:
                deferred.add(taken)  # the policy ignored it
            if dead is None:
                log.info("event handled", position=tracking.notification_id)
        return dead

    async def _dead_letter(self, dead: DeadLetter, group: group_commit.Group) -> None:
        """Send a dead letter and record its message taken, in that order: a crash between the
        two sends it again after the restart (the same identity: `carenet_kit.dead_letters`),
        never loses it. The negative control of that crash records it first."""
        if not fail_points.guarded("dead-letter-first"):
            await self._track(dead, group)
            fail_points.reached("inbound.dead-lettered")
        await self.dead_letters.send(self._send, dead.record, dead.reason, dead.text)
        if fail_points.guarded("dead-letter-first"):
            fail_points.reached("inbound.dead-lettered")
            await self._track(dead, group)

    async def _track(self, dead: DeadLetter, group: group_commit.Group) -> None:
        # a replica that had the partition before a rebalance may have tracked it
        with suppress(IntegrityError):
            await in_thread(self.app.process_recorder.insert_tracking, dead.tracking)
        await in_thread(group.commit)

    async def _send(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        await self.stream_app.producer.send_and_wait(
            self.dead_letter_topic, key, value, None, None, headers
        )


def _record(message: Any) -> Record:
    """A faust message as the inspector reads it."""
    headers = message.headers
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    return Record(
        message.topic, message.partition, message.offset, message.key, message.value or b"", pairs
    )
