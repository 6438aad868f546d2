"""Time-driven work: a loop that asks the service to act on whatever has fallen due.

The loop only says *when* to look; *what* is due, and that it happens once, is the service's
business: each due action is a command on the aggregate that owns the deadline, which records
that the deadline was handled. Two schedulers racing on one store both try to append the same
aggregate version; optimistic concurrency lets one win, and the loser finds the deadline
handled when it looks again. Restarts are safe for the same reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from carenet_kit.application import ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.outbox import Cause
from carenet_kit.threads import in_thread

log = structlog.get_logger()

DueWork = Callable[[datetime], int]
"""Act on everything due at the given moment; returns how many actions were recorded."""

AggregateT = TypeVar("AggregateT", bound=Aggregate)


class Scheduler:
    def __init__(self, due_work: DueWork, clock: Clock, interval_seconds: float) -> None:
        self.due_work = due_work
        self.clock = clock
        self.interval_seconds = interval_seconds

    async def run(self) -> None:
        while True:
            acted = await in_thread(self.due_work, self.clock.now())
            if acted:
                log.info("due work recorded", actions=acted)
            await asyncio.sleep(self.interval_seconds)


def act_once_each(
    app: ServiceApplication,
    aggregate_ids: Iterable[UUID],
    act: Callable[[AggregateT], bool],
) -> int:
    """Load each aggregate, let `act` decide and record what is due, commit it alone.

    `act` returns whether it changed the aggregate. A concurrent writer (another scheduler,
    a request) wins a race by optimistic concurrency; the deadline is looked at again on the
    next round, where the aggregate already says what happened.
    """
    acted = 0
    for aggregate_id in aggregate_ids:
        aggregate: AggregateT = app.repository.get(aggregate_id)
        if not act(aggregate):
            continue
        try:
            app.commit(aggregate, cause=Cause.request())
        except IntegrityError:
            log.info("due work taken by a concurrent writer", aggregate_id=str(aggregate_id))
            continue
        acted += 1
    return acted
