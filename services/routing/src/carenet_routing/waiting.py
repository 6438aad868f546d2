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
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID, uuid4

import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from carenet_kit.application import ServiceApplication
from carenet_kit.outbox import Cause
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
TOPICS = [get_topic(cls) for cls in (*_GAINS, Route.HeldForManualRouting, *_RELEASES)]


class WaitingRoutes:
    """Which routes wait for which region; acts on each catchment gained after `POSITION`."""

    def __init__(self) -> None:
        self.position = 0
        self.waiting: dict[UUID, str] = {}
        self.gained_at_version = 0
        """The directory version of the last catchment gain seen in the log."""

    def route_those_now_held(
        self, app: ServiceApplication, today: date, rules: RoutingRules
    ) -> int:
        """Catch up with the log and route whom the gains made routable; returns how many."""
        acted_up_to = app.process_recorder.max_tracking_id(POSITION) or 0
        routed = 0
        while notifications := app.process_recorder.select_notifications(
            self.position, 500, topics=TOPICS, inclusive_of_start=False
        ):
            for notification in notifications:
                candidates = self._apply(app.mapper.to_domain_event(notification))
                if candidates and notification.id > acted_up_to:
                    outcome = self._route(app, candidates, notification.id, today, rules)
                    if outcome is None:
                        return routed  # a concurrent writer: this step again next round
                    routed += outcome
                self.position = notification.id
        return routed

    def _apply(self, e: DomainEventProtocol[UUID]) -> list[UUID]:
        """Follow one event; the routes it may have made routable."""
        match e:
            case Directory.CenterRegistered():
                return self._gained(e.originator_version, e.catchment)
            case Directory.CatchmentAreaAdded() | Directory.CatchmentAreaHandedOver():
                return self._gained(e.originator_version, [e.region_code])
            case Route.HeldForManualRouting():
                self.waiting[e.originator_id] = e.region_code
                return [e.originator_id] if e.directory_version < self.gained_at_version else []
            case _:
                self.waiting.pop(e.originator_id, None)
                return []

    def _gained(self, directory_version: int, areas: list[str]) -> list[UUID]:
        self.gained_at_version = directory_version
        return [r for r, region in self.waiting.items() if _within(region, areas)]

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
