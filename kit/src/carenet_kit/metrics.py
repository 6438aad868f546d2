"""Prometheus metrics every service shares, served at `GET /metrics` on the HTTP port.

One service runs per process, so the metrics live in `prometheus_client`'s default registry.
Labels are low-cardinality only: topic, partition, consumer, route template, status, channel.
Never a patient id, an event id or anything a request carries (see `deploy/README.md`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.metrics import Info
from tenacity import AsyncRetrying, wait_exponential

from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity

log = structlog.get_logger()

NOT_MEASURED = ("/metrics", "/healthz", "/readyz")
"""The scraper's and the probes' calls: measuring them would only measure the measuring."""

HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Duration of HTTP requests in seconds, by method, route template and status.",
    ["method", "handler", "status"],
)
"""Its `_count` counts the requests. Made once per process: every app of the process (tests
make many) records into it, where the instrumentator's own would measure only the first."""

EVENTS_CONSUMED = Counter(
    "carenet_events_consumed",
    "Messages taken from a topic by a consumer (the inbound agent or a batch consumer).",
    ["consumer", "topic"],
)
EVENTS_PRODUCED = Counter(
    "carenet_events_produced",
    "Messages the outbox relay published to a topic (acknowledged by the brokers).",
    ["topic"],
)
READ_MODEL_EVENTS_APPLIED = Counter(
    "carenet_read_model_events_applied",
    "Events of the service's own store applied to a read model since the process started: "
    "after a restart, only those recorded after the read model's snapshot.",
    ["read_model"],
)
DEAD_LETTERS = Counter(
    "carenet_dead_letters",
    "Messages sent to the dead-letter topic, by the topic they came from.",
    ["consumer", "source_topic"],
)
MESSAGES_REFUSED = Counter(
    "carenet_messages_refused",
    "Messages a consumer refused to act on, by why (`carenet_kit.admission`): forged, altered, "
    "misplaced, oversized, invalid, gap, repeat, untrusted (no key set). Counted by every "
    "reader of the topic in the service; only one of them dead-letters each message.",
    ["consumer", "topic", "reason"],
)
CONSUMER_LAG = Gauge(
    "carenet_consumer_lag",
    "Messages on a partition the consumer has not yet processed (end offset minus position).",
    ["consumer", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge(
    "carenet_outbox_backlog",
    "Outbox messages in the store the brokers have not yet acknowledged, measured every second "
    "(at most one read's batch: a full batch means at least that many); 0 on a standby.",
    ["topic"],
)
BROKER_REACHABLE = Gauge(
    "carenet_broker_reachable",
    "1 if the service's last look (every 5 s) found a Kafka broker answering, 0 otherwise.",
)
RELAY_LEASE_HELD = Gauge(
    "carenet_relay_lease_held",
    "1 while this replica's outbox relay holds the lease and publishes, 0 on a standby "
    "(summed over a service's replicas: 1).",
    ["topic"],
)


def instrument_http(api: FastAPI) -> None:
    """`http_request_duration_seconds`: a histogram (so a count too) of HTTP requests by
    method, route template and status; and `GET /metrics`.

    The route template (`/v1/patients/{patient_id}`), never the path, so no id becomes a label;
    a path that matches no route is counted as `none`.
    """
    Instrumentator(
        should_group_status_codes=False,
        should_ignore_untemplated=False,
        should_group_untemplated=True,
        excluded_handlers=[f"^{path}$" for path in NOT_MEASURED],
    ).add(_observe_latency).instrument(api).expose(api, include_in_schema=False, tags=["health"])


def _observe_latency(info: Info) -> None:
    HTTP_LATENCY.labels(info.method, info.modified_handler, info.modified_status).observe(
        info.modified_duration
    )


def record_lag(
    consumer: str, ends: Mapping[TopicPartition, int], positions: Mapping[TopicPartition, int]
) -> None:
    """Set the lag of each partition: its end offset minus the consumer's next offset."""
    for tp, end in ends.items():
        lag = max(end - positions.get(tp, 0), 0)
        CONSUMER_LAG.labels(consumer, tp.topic, str(tp.partition)).set(lag)


class GroupLagSampler:
    """Samples a consumer group's lag from the brokers: end offsets minus committed offsets.

    What a Kafka lag exporter reports, measured from inside the service so that each service
    exposes its own; it neither joins the group nor commits anything. A partition the group
    never committed on counts from offset 0 (the group starts at the earliest offset).
    """

    def __init__(
        self,
        consumer: str,
        group: str,
        topics: Sequence[str],
        bootstrap: str,
        every_seconds: float,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self.consumer = consumer
        self.group = group
        self.topics = list(topics)
        self.bootstrap = bootstrap
        self.every_seconds = every_seconds
        self.security = security

    async def run(self) -> None:
        """Sample until cancelled; waits for the brokers, and a failed sample is only logged:
        a metric never stops the service."""
        client = await self._connect()
        try:
            while True:
                try:
                    await self.sample(client)
                except Exception as error:
                    log.warning("lag not sampled", consumer=self.consumer, error=str(error))
                await asyncio.sleep(self.every_seconds)
        finally:
            await client.stop()

    async def _connect(self) -> AIOKafkaConsumer:
        async for attempt in AsyncRetrying(wait=wait_exponential(max=30)):
            with attempt:
                client = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    group_id=self.group,
                    enable_auto_commit=False,
                    **self.security.client_options(),
                )
                try:
                    await client.start()
                except Exception:
                    await client.stop()
                    raise
        return client

    async def sample(self, client: AIOKafkaConsumer) -> None:
        await client._client.force_metadata_update()
        cluster = client._client.cluster
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return
        ends: dict[TopicPartition, int] = await client.end_offsets(partitions)
        positions = {tp: (await client.committed(tp)) or 0 for tp in partitions}
        record_lag(self.consumer, ends, positions)
