"""Routing: wires the service together and serves it."""

from __future__ import annotations

import yaml

from carenet_kit.runtime import Service, serve
from carenet_routing import api
from carenet_routing.application import RoutingApplication
from carenet_routing.config import Settings
from carenet_routing.outbox import to_integration_event
from carenet_routing.policy import policy
from carenet_routing.projection import RoutingBoard


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    application = RoutingApplication(settings.eventsourcing_env(), outbound=to_integration_event)
    directory = yaml.safe_load(settings.reference_file.read_text())
    application.load_directory(
        [{k: c[k] for k in ("id", "name", "catchment")} for c in directory["centers"]]
    )
    return Service(
        settings=settings,
        application=application,
        projection=RoutingBoard(),
        routers=[api.router],
        description="Network tier: routes diagnosed patients to the community health center "
        "of their residence; manual routing queue; catchment directory.",
        consumes=["intake"],
        policy=policy(application),
    )


def main() -> None:
    serve(bootstrap())


if __name__ == "__main__":
    main()
