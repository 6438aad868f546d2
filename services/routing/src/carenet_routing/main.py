"""Routing: wires the service together and serves it."""

from __future__ import annotations

from carenet_access import AccessControl
from carenet_kit.clock import Clock
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.runtime import Service, entry_point
from carenet_routing import api
from carenet_routing.application import RoutingApplication
from carenet_routing.config import Settings
from carenet_routing.outbox import to_integration_event
from carenet_routing.policy import CONSUMES, policy
from carenet_routing.projection import RoutingBoard
from carenet_routing.rules import RoutingRules


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    application = RoutingApplication(
        settings.eventsourcing_env(),
        outbound=to_integration_event,
        clock=clock,
        accept_windows=settings.accept_windows,
        clock_tolerance=settings.clock_tolerance,
        snapshots=settings.snapshot_schedule(),
        rules=RoutingRules.load(settings.rule_set_file),
    )
    application.load_directory(ReferenceDirectory.load(settings.reference_file))
    access = AccessControl(settings.service, application)
    return Service(
        settings=settings,
        application=application,
        projection=RoutingBoard(application),
        routers=api.routers,
        description="Network tier: routes diagnosed patients to the community health center "
        "of their residence, transfers them when they move, runs the manual routing queue, "
        "administers the directory and follows community referrals to hospitals.",
        consumes=CONSUMES,
        policy=policy(application),
        due_work=application.act_on_due,
        access=access,
    )


main = entry_point(bootstrap)
"""The `carenet-routing` command."""
