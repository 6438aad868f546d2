"""The dead-letter topic: a refused message quarantined with its reason, never lost.

Every consumer that gives up on a message (`carenet_kit.inbound`, `carenet_kit.batches`) copies
its key and bytes to the dead-letter topic with headers saying who gave up, on what and why:
`carenet_dlq_consumer`, `carenet_dlq_topic`, `carenet_dlq_partition`, `carenet_dlq_offset`
(together, the dead letter's identity), `carenet_dlq_kind` (`contract`, `rejected`, or why
admission refused it) and `carenet_dlq_reason`.

A consumer sends the dead letter before it records the message as taken (its tracking record or
its batch's position), so that a crash between the two cannot lose it: the message is taken
again after the restart and dead-lettered again, with the same identity. That copy is the one
repeat possible, and readers fold on the identity (`carenet-dev dead-letters` counts each
once). Skipping it would mean reading the topic back, which holds copies of messages from topics
a service may not read (its ACLs grant Write only), so it is not done. Within a process a dead
letter is sent once: a batch taken again after a storage failure does not send it again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

import structlog

from carenet_kit import metrics
from carenet_kit.inspection import Record
from carenet_kit.wire import Headers

log = structlog.get_logger()

REMEMBERED = 10_000
"""Dead letters a process remembers having sent (the most recent first kept)."""

Send = Callable[[bytes | None, bytes, Headers], Awaitable[object]]
"""Sends (key, value, headers) to the dead-letter topic and waits for the acknowledgement."""


class DeadLetters:
    """One consumer's dead letters: `consumer` names it in the headers, `metrics_name` in the
    `carenet_dead_letters` counter."""

    def __init__(self, consumer: str, metrics_name: str) -> None:
        self.consumer = consumer
        self.metrics_name = metrics_name
        self._sent: OrderedDict[tuple[str, int, int], None] = OrderedDict()

    async def send(self, send: Send, record: Record, kind: str, text: str) -> None:
        identity = (record.topic, record.partition, record.offset)
        if identity in self._sent:
            return
        headers = [
            ("carenet_dlq_reason", text.encode()[:4096]),
            ("carenet_dlq_kind", kind.encode()),
            ("carenet_dlq_topic", record.topic.encode()),
            ("carenet_dlq_partition", str(record.partition).encode()),
            ("carenet_dlq_offset", str(record.offset).encode()),
            ("carenet_dlq_consumer", self.consumer.encode()),
        ]
        await send(record.key, record.value, headers)
        self._sent[identity] = None
        if len(self._sent) > REMEMBERED:
            self._sent.popitem(last=False)
        metrics.DEAD_LETTERS.labels(self.metrics_name, record.topic).inc()
        log.warning(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=text.splitlines()[0][:200],
        )
