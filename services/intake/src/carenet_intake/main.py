"""Intake: wires the service together and serves it."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from carenet_access import AccessControl
from carenet_access.relations import PatientRelations
from carenet_intake import api
from carenet_intake.application import IntakeApplication
from carenet_intake.config import Settings
from carenet_intake.domain import Hospital
from carenet_intake.outbox import integration_events
from carenet_intake.policy import policy
from carenet_intake.projection import HospitalRegister
from carenet_intake.rules import IntakeRules
from carenet_intake.workdays import WorkingDayCalendars
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.runtime import Service, entry_point


def load_hospitals(settings: Settings) -> dict[str, Hospital]:
    directory = ReferenceDirectory.load(settings.reference_file)
    return {h.id: Hospital(h.id, h.certified, h.region_code) for h in directory.hospitals}


def diagnosed_here(application: IntakeApplication) -> Callable[[UUID], PatientRelations | None]:
    """A hospital that recorded a diagnosis here may act on the patient before the network
    hears of it; registering alone relates no hospital to the patient (README: who may see
    what). A registration not yet diagnosed is known, with nobody in relation to it, exactly
    as a registration that will join a patient registered before."""

    def relations(patient_id: UUID) -> PatientRelations | None:
        hospitals = application.diagnosing_hospitals(patient_id)
        return None if hospitals is None else PatientRelations(hospitals=hospitals)

    return relations


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    rules = IntakeRules.load(settings.rule_set_file)
    application = IntakeApplication(
        settings.eventsourcing_env(),
        outbound=integration_events(rules),
        hospitals=load_hospitals(settings),
        pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
        master_key=settings.master_key_bytes(),
        calendars=WorkingDayCalendars.from_file(settings.calendar_file),
        clock_tolerance=settings.clock_tolerance,
        rules=rules,
    )
    access = AccessControl(settings.service, application, known=diagnosed_here(application))
    return Service(
        settings=settings,
        application=application,
        projection=HospitalRegister(application),
        routers=[api.router],
        description="Hospital tier: patient registration, diagnoses of severe mental disorders "
        "with the reporting deadline, referrals from the community, admissions and discharges.",
        consumes=["routing", "casework"],
        policy=policy(application),
        access=access,
    )


main = entry_point(bootstrap)
"""The `carenet-intake` command."""
