"""Fail points: named steps where a fault test has the process die, exactly there.

`CARENET_FAIL_POINTS="relay.acknowledged:3"` ends the process (`os._exit`, no clean-up, as a
power cut or a SIGKILL would) the third time it reaches `relay.acknowledged`; several points
are separated by commas. `CARENET_UNGUARDED="relay-skip"` turns a guard off, for the negative
control of the scenario that proves the guard (`tests/faults`). Both are development and test
settings: production refuses to start with either (`ServiceSettings`), and a service arms them
(`arm`) only from its validated settings. Unarmed, `reached` is one dictionary lookup.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger()

EXIT_STATUS = 86
"""How a process ended by a fail point exits, so that a test can tell it from a failure."""

POINTS = {
    "relay.acknowledged": "the broker acknowledged a batch; the relay has not recorded it",
    "relay.partly-acknowledged": "a record batch of a read is seen acknowledged, others not yet",
    "inbound.committed": "a consumed batch is committed; its offsets are not acknowledged",
    "inbound.dead-lettered": "a consumer sent a dead letter; it has not recorded the message taken",
    "notifications.sent": "a channel took a notification; its delivery is not recorded",
}
GUARDS = {
    "relay-skip": "after a restart the relay skips what each partition already holds",
    "relay-acks-all": "a write of the relay is acknowledged once every in-sync replica has it",
    "relay-lease": "one replica's relay publishes, the one holding the lease",
    "inbound-tracking": "a consumer skips a message whose offset it has tracked",
    "dead-letter-first": "a consumer sends a dead letter before it records the message taken",
    "store-outage-restart": "a background loop the store's outage stopped is run again",
    "stable-delivery-id": "every attempt of a notification's delivery carries the delivery's id",
}


@dataclass
class FailPoints:
    armed: Mapping[str, int] = field(default_factory=dict)
    """Each armed point, and on which pass (1: the first) the process ends there."""
    unguarded: frozenset[str] = frozenset()
    _passes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def parse(points: str, unguarded: str) -> FailPoints:
        """From the settings' texts ("name[:pass],..." and "guard,..."); unknown names are
        refused, so that a misspelt point cannot make a test pass."""
        armed = {}
        for item in filter(None, (part.strip() for part in points.split(","))):
            name, _, count = item.partition(":")
            if name not in POINTS:
                raise ValueError(f"no fail point {name!r} (known: {', '.join(sorted(POINTS))})")
            armed[name] = int(count or 1)
            if armed[name] < 1:
                raise ValueError(f"fail point {name!r}: the pass to fail on counts from 1")
        guards = frozenset(filter(None, (part.strip() for part in unguarded.split(","))))
        if unknown := guards - GUARDS.keys():
            raise ValueError(f"no guard {sorted(unknown)} (known: {', '.join(sorted(GUARDS))})")
        return FailPoints(armed, guards)

    def reached(self, point: str) -> None:
        if point not in self.armed:
            return
        with self._lock:
            self._passes[point] = self._passes.get(point, 0) + 1
            if self._passes[point] == self.armed[point]:
                log.warning("fail point reached: the process ends here", fail_point=point)
                os._exit(EXIT_STATUS)

    def guarded(self, guard: str) -> bool:
        return guard not in self.unguarded


_active = FailPoints()


def arm(points: FailPoints) -> None:
    """Arm the process' fail points and guards (a service does it from its settings)."""
    global _active  # noqa: PLW0603 - one set per process, read on every pass
    _active = points


def reached(point: str) -> None:
    """Called at the step named `point`: ends the process if the point is armed for this pass."""
    _active.reached(point)


def guarded(guard: str) -> bool:
    """Whether `guard` is on (always, unless a negative control turned it off)."""
    return _active.guarded(guard)
