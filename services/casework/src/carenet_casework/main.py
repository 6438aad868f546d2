"""Casework: wires the service together and serves it."""

from __future__ import annotations

import yaml

from carenet_casework import api
from carenet_casework.application import CaseworkApplication
from carenet_casework.config import Settings
from carenet_casework.outbox import to_integration_event
from carenet_casework.policy import policy
from carenet_casework.projection import CareBoard
from carenet_kit.runtime import Service, serve


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    directory = yaml.safe_load(settings.reference_file.read_text())
    application = CaseworkApplication(
        settings.eventsourcing_env(),
        outbound=to_integration_event,
        rosters={c["id"]: list(c["social_workers"]) for c in directory["centers"]},
    )
    return Service(
        settings=settings,
        application=application,
        projection=CareBoard(),
        routers=api.routers,
        description="Community tier: cases, case managers (social workers) and follow-up visits.",
        consumes=["routing"],
        policy=policy(application),
    )


def main() -> None:
    serve(bootstrap())


if __name__ == "__main__":
    main()
