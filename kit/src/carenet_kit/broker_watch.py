"""Whether this service reaches the brokers: `carenet_broker_reachable`, and a line per change.

While the brokers are away a service keeps answering and keeps what it accepts in its outbox
(README, "How an event travels", 6), so it stays ready. What an operator needs is to be told,
once: the gauge for an alert rule, one log line when the brokers stop answering and one when
they answer again. (The Kafka clients' own line per failed attempt is thinned out by
`carenet_kit.logs.LibraryRepeats`.)
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from carenet_kit import metrics
from carenet_kit.kafka_security import PLAINTEXT, KafkaSecurity

log = structlog.get_logger()


class BrokerWatch:
    def __init__(
        self,
        bootstrap: str,
        security: KafkaSecurity = PLAINTEXT,
        every_seconds: float = 5.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.security = security
        self.every_seconds = every_seconds
        self.timeout_seconds = timeout_seconds
        self.reachable: bool | None = None
        """What the last look found (None: not looked yet)."""

    async def run(self) -> None:
        """Look every `every_seconds` until cancelled."""
        client = AIOKafkaClient(
            bootstrap_servers=self.bootstrap,
            request_timeout_ms=int(self.timeout_seconds * 1000),
            **self.security.client_options(),
        )
        metrics.BROKER_REACHABLE.set(0)
        try:
            while True:
                self._found(await self._answers(client))
                await asyncio.sleep(self.every_seconds)
        finally:
            await client.close()

    async def _answers(self, client: AIOKafkaClient) -> bool:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                if client.cluster.brokers():
                    await client.fetch_all_metadata()
                else:  # never reached yet
                    await client.bootstrap()
        except (KafkaError, OSError, TimeoutError):
            return False
        return True

    def _found(self, reachable: bool) -> None:
        if reachable == self.reachable:
            return
        metrics.BROKER_REACHABLE.set(int(reachable))
        if reachable:
            log.info("brokers reachable", bootstrap=self.bootstrap)
        elif self.reachable is None:
            log.error("brokers unreachable since the start", bootstrap=self.bootstrap)
        else:
            log.error("brokers unreachable", bootstrap=self.bootstrap)
        self.reachable = reachable
