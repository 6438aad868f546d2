"""Patients waiting in the manual queue are routed once the directory holds their region.

A follow-up step driven by the recorded directory events, run with the service's due work: it
follows routing's own notification log, keeps which routes wait and for which region, and when
a center is registered, a catchment extended or an area handed over, routes the patients who
wait for the areas gained. Each step is committed in one transaction with its position in the
log (tracking `POSITION`), so a crash repeats a step at most, and a repeated step changes
nothing: the route decides, and a routed patient is not routed again. Two instances racing on
one store conflict on the route or the position, and the loser looks again next round.

A hold decided on a directory that a catchment change has since overtaken (the diagnosis was
routed while the operator's change was being committed) is looked at again the same way.

Which routes wait is kept with the service's other watches (the kit's `LogFollower`): a
snapshot of it with its log position, taken when every gain up to that position has been acted
on, so a start reads only what came after, not every route ever decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid4

import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking

from carenet_kit.application import ServiceApplication
from carenet_kit.outbox import Cause
from carenet_kit.projection import Applied, LogFollower
from carenet_kit.read_model_snapshots import SnapshotSchedule
from carenet_routing.domain import Directory, Route
from carenet_routing.rules import RoutingRules

log = structlog.get_logger()

POSITION = "routing:waiting-routes"
"""The tracking name of the last log position whose waiting patients were routed."""
_GAINS = (
    Directory.CenterRegistered,
    Directory.CatchmentAreaAdded,
    Directory.CatchmentAreaHandedOver,
)
_RELEASES = (Route.Routed, Route.Transferred, Route.KeptAtCenter, Route.ResidenceChanged)
_FOLLOWED = (*_GAINS, Route.HeldForManualRouting, *_RELEASES)


@dataclass
class Waiting:
    """The read model: which routes wait for which region, and what the gains made routable."""

    regions: dict[UUID, str] = field(default_factory=dict)
    """The region each waiting route waits for."""
    gained_at_version: int = 0
    """The directory version of the last catchment gain seen in the log."""
    due: list[tuple[int, list[UUID]]] = field(default_factory=list)
    """(log position of a gain, the routes it may have made routable), not yet acted on."""

    def apply(self, e: DomainEventProtocol[UUID], position: int = 0) -> None:
        match e:
            case Directory.CenterRegistered():
                self._gained(position, e.originator_version, e.catchment)
            case Directory.CatchmentAreaAdded() | Directory.CatchmentAreaHandedOver():
                self._gained(position, e.originator_version, [e.region_code])
            case Route.HeldForManualRouting():
                self.regions[e.originator_id] = e.region_code
                if e.directory_version < self.gained_at_version:
                    self.due.append((position, [e.originator_id]))
            case _:
                self.regions.pop(e.originator_id, None)

    def _gained(self, position: int, directory_version: int, areas: list[str]) -> None:
        self.gained_at_version = directory_version
        routable = [r for r, region in self.regions.items() if _within(region, areas)]
        if routable:
            self.due.append((position, routable))


class WaitingRoutes(LogFollower):
    """Follows the log into `Waiting`; acts on each gain after `POSITION`, in the log's order."""

    def __init__(self, app: ServiceApplication, schedule: SnapshotSchedule | None) -> None:
        self.waiting = Waiting()
        super().__init__(app, self.waiting, schedule, events=_FOLLOWED)

    def apply(self, events: Applied) -> None:
        for notification_id, domain_event in events:
            self.waiting.apply(domain_event, notification_id)
            self.position = notification_id
        self.count_applied(len(events))

    def route_those_now_held(self, today: date, rules: RoutingRules) -> int:
        """Catch up with the log and route whom the gains made routable; returns how many."""
        self.restore()
        acted_up_to = self.app.process_recorder.max_tracking_id(POSITION) or 0
        routed = 0
        while True:
            while self.waiting.due:
                position, candidates = self.waiting.due[0]
                if position > acted_up_to:
                    outcome = self._route(self.app, candidates, position, today, rules)
                    if outcome is None:
                        return routed  # a concurrent writer: this step again next round
                    routed += outcome
                self.waiting.due.pop(0)
            if self.snapshot_due():
                self.take_snapshot()  # nothing is due: every gain up to here is acted on
            events = self.read_next()
            if not events:
                return routed
            self.apply(events)

    @staticmethod
    def _route(
        app: ServiceApplication,
        candidates: Iterable[UUID],
        position: int,
        today: date,
        rules: RoutingRules,
    ) -> int | None:
        """Route the candidates at the current directory, with the position, in one commit."""
        directory: Directory = app.repository.get(Directory.create_id())
        routes: list[Route] = [app.repository.get(route_id) for route_id in candidates]
        routed = [route for route in routes if route.route_if_held_now(directory, today, rules)]
        try:
            app.commit(*routed, cause=Cause(uuid4(), tracking=Tracking(POSITION, position)))
        except IntegrityError:
            log.info("waiting routes taken by a concurrent writer", position=position)
            return None
        return len(routed)


def _within(region_code: str, areas: Iterable[str]) -> bool:
    return any(region_code.startswith(area) for area in areas)
