"""Inbound: a faust-streaming agent turns each integration event into a command, exactly once.

Delivery is at least once; the effect is exactly once because the command's events are
recorded with a tracking record (topic:partition, offset) in the same transaction, and a
message whose position is already tracked changes nothing. Before any command, the message must
be admitted (`carenet_kit.admission`): signed by its producer, keyed by its patient, the next
of its stream. A message refused there, one that fails its contract or one the service rejects
goes to the dead-letter topic with the reason; a storage failure is retried in place, so the
partition waits rather than lose the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
import structlog
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from carenet_contracts import Envelope
from carenet_kit import metrics, tracing
from carenet_kit.admission import Admitted, Gate, Refused, StreamTracking
from carenet_kit.application import ServiceApplication
from carenet_kit.inspection import Record
from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity
from carenet_kit.outbox import Cause

log = structlog.get_logger()

Policy = Callable[[Envelope[Any], Cause], None]


class CommandRejected(ValueError):
    """The service refuses a command; the text is the reason given to the caller."""


class CommandConflict(CommandRejected):
    """The command contradicts what is already recorded (HTTP 409)."""


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

    reason: str
    """A label: `contract`, `rejected`, or why admission refused it."""
    text: str
    tracking: Tracking


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
    ) -> None:
        self.stream_app = stream_app
        self.app = app
        self.dead_letter_topic = dead_letter_topic
        self.policy = policy
        self.gate = gate
        source = stream_app.topic(*topics, key_type=bytes, value_type=bytes)
        stream_app.agent(source, name=f"{stream_app.conf.id}-inbound")(self._consume)

    async def _consume(self, stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            tracking = Tracking(f"{message.topic}:{message.partition}", message.offset)
            metrics.EVENTS_CONSUMED.labels(self.metrics_name, message.topic).inc()
            headers = message.headers
            pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
            record = Record(
                message.topic,
                message.partition,
                message.offset,
                message.key,
                message.value or b"",
                pairs,
            )
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(PersistenceError),
                wait=wait_exponential(max=10),
                before_sleep=lambda state: log.warning("storage unavailable, retrying"),
            ):
                with attempt:
                    dead = await asyncio.to_thread(self._process, record, tracking)
            if dead is not None:
                await self._dead_letter(message, dead)
                # a replica that had the partition before a rebalance may have tracked it too
                with suppress(IntegrityError):
                    await asyncio.to_thread(
                        self.app.process_recorder.insert_tracking, dead.tracking
                    )

    def _process(self, record: Record, tracking: Tracking) -> DeadLetter | None:
        """Admit and apply one message; what must go to the dead-letter topic, if anything."""
        if self.app.is_tracked(tracking.application_name, tracking.notification_id):
            return None
        verdict = self.gate.admit(record, self.app.stream_position)
        if isinstance(verdict, Refused):
            metrics.MESSAGES_REFUSED.labels(self.metrics_name, record.topic, verdict.reason).inc()
            return DeadLetter(verdict.reason, verdict.text, tracking)
        if not isinstance(verdict, Admitted):  # the last message of its stream, redelivered
            self.app.process_recorder.insert_tracking(tracking)
            return None
        taken = StreamTracking(
            tracking.application_name, tracking.notification_id, (verdict.position,)
        )
        if verdict.envelope is None:
            return DeadLetter("contract", f"contract: {verdict.contract_error}", taken)
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
            try:
                self.policy(envelope, Cause.inbound(envelope, taken))
            except CommandRejected as error:
                return DeadLetter("rejected", f"rejected: {error}", taken)
            if not self.app.is_tracked(tracking.application_name, tracking.notification_id):
                self.app.process_recorder.insert_tracking(taken)  # the policy ignored it
            log.info("event handled", position=tracking.notification_id)
        return None

    async def _dead_letter(self, message: Any, dead: DeadLetter) -> None:
        headers = [
            ("carenet_dlq_reason", dead.text.encode()[:4096]),
            ("carenet_dlq_kind", dead.reason.encode()),
            ("carenet_dlq_topic", message.topic.encode()),
            ("carenet_dlq_partition", str(message.partition).encode()),
            ("carenet_dlq_offset", str(message.offset).encode()),
            ("carenet_dlq_consumer", self.stream_app.conf.id.encode()),
        ]
        await self.stream_app.producer.send_and_wait(
            self.dead_letter_topic, message.key, message.value, None, None, headers
        )
        metrics.DEAD_LETTERS.labels(self.metrics_name, message.topic).inc()
        log.warning(
            "message dead-lettered",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            reason=dead.text.splitlines()[0][:200],
        )
