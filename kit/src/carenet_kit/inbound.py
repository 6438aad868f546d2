"""Inbound: a faust-streaming agent turns each integration event into a command, exactly once.

Delivery is at least once; the effect is exactly once because the command's events are
recorded with a tracking record (topic:partition, offset) in the same transaction, and a
message whose position is already tracked changes nothing. A message that fails its contract
or that the service rejects goes to the dead-letter topic with the reason; a storage failure
is retried in place, so the partition waits rather than lose the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import faust
import structlog
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from carenet_contracts import ContractError, Envelope, parse_message
from carenet_kit import metrics, tracing
from carenet_kit.application import ServiceApplication
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
    ) -> None:
        self.stream_app = stream_app
        self.app = app
        self.dead_letter_topic = dead_letter_topic
        self.policy = policy
        source = stream_app.topic(*topics, key_type=bytes, value_type=bytes)
        stream_app.agent(source, name=f"{stream_app.conf.id}-inbound")(self._consume)

    async def _consume(self, stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            tracking = Tracking(f"{message.topic}:{message.partition}", message.offset)
            metrics.EVENTS_CONSUMED.labels(self.metrics_name, message.topic).inc()
            traceparent = tracing.traceparent_in(message.headers)
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(PersistenceError),
                wait=wait_exponential(max=10),
                before_sleep=lambda state: log.warning("storage unavailable, retrying"),
            ):
                with attempt:
                    rejection = await asyncio.to_thread(
                        self._process, message.value, tracking, message.topic, traceparent
                    )
            if rejection is not None:
                await self._dead_letter(message, rejection)
                # a replica that had the partition before a rebalance may have tracked it too
                with suppress(IntegrityError):
                    await asyncio.to_thread(self.app.process_recorder.insert_tracking, tracking)

    def _process(
        self, value: bytes, tracking: Tracking, topic: str, traceparent: str | None
    ) -> str | None:
        """Apply one message; returns the reason when it must go to the dead-letter topic.

        The command runs in a child span of the message's trace context, so the messages it
        causes carry the same trace id."""
        if self.app.is_tracked(tracking.application_name, tracking.notification_id):
            return None
        try:
            envelope = parse_message(value)
        except ContractError as error:
            return f"contract: {error}"
        with (
            tracing.consuming(topic, traceparent),
            structlog.contextvars.bound_contextvars(
                event_id=str(envelope.event_id),
                event_type=envelope.event_type,
                patient_id=str(envelope.patient_id),
                correlation_id=str(envelope.correlation_id),
            ),
        ):
            try:
                self.policy(envelope, Cause.inbound(envelope, tracking))
            except CommandRejected as error:
                return f"rejected: {error}"
            log.info("event handled", position=tracking.notification_id)
        return None

    async def _dead_letter(self, message: Any, reason: str) -> None:
        headers = [
            ("carenet_dlq_reason", reason.encode()[:4096]),
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
            reason=reason.splitlines()[0][:200],
        )
