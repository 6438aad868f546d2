"""Intake: wires the service together and serves it."""

from __future__ import annotations

import yaml

from carenet_intake import api
from carenet_intake.application import IntakeApplication
from carenet_intake.config import Settings
from carenet_intake.domain import Hospital
from carenet_intake.outbox import to_integration_event
from carenet_intake.projection import HospitalRegister
from carenet_kit.runtime import Service, serve


def load_hospitals(settings: Settings) -> dict[str, Hospital]:
    directory = yaml.safe_load(settings.reference_file.read_text())
    return {h["id"]: Hospital(h["id"], h["certified"]) for h in directory["hospitals"]}


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    application = IntakeApplication(
        settings.eventsourcing_env(),
        outbound=to_integration_event,
        hospitals=load_hospitals(settings),
        pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
    )
    return Service(
        settings=settings,
        application=application,
        projection=HospitalRegister(),
        routers=[api.router],
        description="Hospital tier: patient registration and diagnoses of severe mental disorders.",
    )


def main() -> None:
    serve(bootstrap())


if __name__ == "__main__":
    main()
