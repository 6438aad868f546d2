"""A service's own read model, kept current by following its notification log.

Read models live in memory and are rebuilt from the event store when the service starts:
the store is the truth, and a projection is only a faster way to answer queries.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_kit.application import ServiceApplication


class Projection(Protocol):
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None: ...


class ProjectionRunner:
    def __init__(
        self, app: ServiceApplication, projection: Projection, poll_seconds: float
    ) -> None:
        self.app = app
        self.projection = projection
        self.poll_seconds = poll_seconds
        self.position = 0
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        while True:
            events = await asyncio.to_thread(self._read_after, self.position)
            for notification_id, domain_event in events:
                self.projection.apply(domain_event)
                self.position = notification_id
            if not events:
                self.caught_up.set()
                await asyncio.sleep(self.poll_seconds)

    def catch_up(self) -> int:
        """Apply everything recorded so far, on the caller's thread (simulations, tests)."""
        applied = 0
        while events := self._read_after(self.position):
            for notification_id, domain_event in events:
                self.projection.apply(domain_event)
                self.position = notification_id
            applied += len(events)
        return applied

    def _read_after(self, position: int) -> list[tuple[int, Any]]:
        notifications = self.app.process_recorder.select_notifications(
            position, 500, inclusive_of_start=False
        )
        return [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
