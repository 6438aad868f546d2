"""Read models kept in memory, current by following a service's notification log, and kept
across restarts as snapshots in the service's own database.

The services' query read models are SQL tables instead (`carenet_kit.read_model_tables`): what
stays here is what is bounded by what is open, the watches of what falls due (routing's open
deadlines, notifications' pending deliveries), each followed by a `LogFollower`. Each lives in
memory; what survives a restart is a snapshot of it with the notification id of the last event
it holds (`carenet_kit.read_model_snapshots`). At start a follower loads that snapshot and
applies only the events recorded after its position.

Why a snapshot is exact: a follower is the only writer of its read model, and it takes the
snapshot between two batches, after applying every event up to its position and nothing
after. State and position go into one row in one statement, so no snapshot is torn. A crash
between snapshots loses nothing: the next start applies again, from the store, the events
recorded since the last snapshot. One is taken every `every` events or `seconds` seconds
(whichever comes first, if anything is new), and, for a `ProjectionRunner`, at shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, Protocol
from uuid import UUID

import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from carenet_kit import metrics
from carenet_kit.application import ServiceApplication
from carenet_kit.read_model_snapshots import (
    ReadModelCodec,
    Snapshot,
    SnapshotSchedule,
    snapshot_table,
)
from carenet_kit.threads import in_thread

log = structlog.get_logger()

BATCH = 500
"""Notifications read from the store at a time."""

Applied = list[tuple[int, Any]]
"""(notification id, domain event) pairs, in the order of the log."""


class Projection(Protocol):
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None: ...


class LogFollower:
    """Applies a service's notifications (all, or those of some event classes) to a read
    model, in order, from its last snapshot; takes snapshots on `schedule` (none without one).
    One caller at a time."""

    def __init__(
        self,
        app: ServiceApplication,
        read_model: Projection,
        schedule: SnapshotSchedule | None = None,
        events: Sequence[type] = (),
    ) -> None:
        self.app = app
        self.read_model = read_model
        self.schedule = schedule
        self.position = 0
        self._topics = [get_topic(cls) for cls in events]
        self._table = snapshot_table(app) if schedule else None
        self._codec = ReadModelCodec(type(read_model)) if self._table else None
        self._name = type(read_model).__qualname__
        self._restored = False
        self._unsaved = 0
        """Events applied since the last snapshot (or since the start)."""
        self._snapshot_at = time.monotonic()

    def catch_up(self) -> int:
        """Apply everything recorded so far, on the caller's thread; the number of events
        read from the store."""
        self.restore()
        applied = 0
        while events := self.read_next():
            self.apply(events)
            applied += len(events)
            if self.snapshot_due():
                self.take_snapshot()
        return applied

    def read_next(self) -> Applied:
        """The next batch after the position (touches only the store: any thread)."""
        notifications = self.app.process_recorder.select_notifications(
            self.position, BATCH, topics=self._topics, inclusive_of_start=False
        )
        return [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]

    def restore(self) -> None:
        """Load the last snapshot into the read model, once (on the caller's thread)."""
        if not self._restored:
            self.adopt(self.load())

    def apply(self, events: Applied) -> None:
        for notification_id, domain_event in events:
            self.read_model.apply(domain_event)
            self.position = notification_id
        self.count_applied(len(events))

    def count_applied(self, count: int) -> None:
        """Events applied since the last snapshot, for its schedule and the metric."""
        self._unsaved += count
        metrics.READ_MODEL_EVENTS_APPLIED.labels(self._name).inc(count)

    def snapshot_due(self) -> bool:
        if self.schedule is None or not self._unsaved:
            return False
        return (
            self._unsaved >= self.schedule.every
            or time.monotonic() - self._snapshot_at >= self.schedule.seconds
        )

    def take_snapshot(self) -> None:
        """Store the read model with its position (only between two batches of `apply`)."""
        if self._table is None or self._codec is None or not self._unsaved:
            return
        position = self.position
        state = self._codec.encode(self.read_model)
        self._table.save(self._name, Snapshot(self._codec.fingerprint, position, state))
        self._unsaved, self._snapshot_at = 0, time.monotonic()
        log.info("read model snapshot taken", read_model=self._name, position=position)

    def load(self) -> tuple[int, Any] | None:
        """The stored read model and its position, if there is one the running code can use
        (touches only the store: any thread)."""
        if self._table is None or self._codec is None:
            return None
        snapshot = self._table.load(self._name)
        if snapshot is None:
            return None
        if snapshot.fingerprint != self._codec.fingerprint:
            log.warning("read model changed: rebuilding it from the store", read_model=self._name)
            return None
        try:
            return snapshot.position, self._codec.decode(snapshot.state)
        except Exception as error:  # any unreadable row means a rebuild
            # The type only: a validation error's message quotes the data it refused.
            log.warning(
                "read model snapshot unreadable: rebuilding it from the store",
                read_model=self._name,
                error=type(error).__name__,
            )
            return None

    def adopt(self, loaded: tuple[int, Any] | None) -> None:
        """Take the loaded state into the live read model, which its readers already hold,
        all fields at once (no await between them)."""
        self._restored = True
        if loaded is None:
            return
        position, state = loaded
        for field in fields(state):
            setattr(self.read_model, field.name, getattr(state, field.name))
        self.position = position
        log.info("read model restored from snapshot", read_model=self._name, position=position)


class ProjectionRunner(LogFollower):
    """Follows the whole log into the service's query projection, as a background task.

    The routes read the projection on the event loop, so events are applied there too, never
    on a worker thread; only reading the store and taking a snapshot (while nothing applies)
    run on one."""

    def __init__(
        self,
        app: ServiceApplication,
        projection: Projection,
        poll_seconds: float,
        schedule: SnapshotSchedule | None = None,
    ) -> None:
        super().__init__(app, projection, schedule)
        self.poll_seconds = poll_seconds
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        if not self._restored:
            self.adopt(await in_thread(self.load))
        try:
            while True:
                events = await in_thread(self.read_next)
                self.apply(events)
                if self.snapshot_due():
                    # Nothing applies events while the snapshot is taken: the runner waits.
                    await in_thread(self.take_snapshot)
                if not events:
                    self.caught_up.set()
                    await asyncio.sleep(self.poll_seconds)
        except asyncio.CancelledError:
            self.take_snapshot()  # at shutdown: on the loop, which has nothing else to do
            raise
