"""Casework: wires the service together and serves it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from carenet_access import AccessControl
from carenet_casework import api
from carenet_casework.application import CaseworkApplication
from carenet_casework.assessment import provider_named
from carenet_casework.config import Settings
from carenet_casework.outbox import integration_events
from carenet_casework.policy import CONSUMES, policy
from carenet_casework.projection_recovery import CaseworkBoard
from carenet_casework.rules import RuleSet
from carenet_kit.clock import Clock
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.runtime import Service, entry_point


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    rules = RuleSet.load(settings.rule_set_file)
    application = CaseworkApplication(
        settings.eventsourcing_env(),
        outbound=integration_events(rules),
        rules=rules,
        clock=clock,
        master_key=settings.master_key_bytes(),
        clock_tolerance=settings.clock_tolerance,
        assessments=provider_named(settings.assessment_provider),
        directory=ReferenceDirectory.load(settings.reference_file),
    )
    board = CaseworkBoard(application)

    def deadlines(now: datetime) -> int:
        today = rules.local_date(now)
        return application.handle_deadlines(
            board.falling_due(today), now
        ) + application.handle_reviews_due(board.reviews_falling_due(today), now)

    def patient_of_case(case_id: UUID) -> UUID | None:
        case = board.case(case_id)
        return None if case is None else case.patient_id

    access = AccessControl(settings.service, application, case_of=patient_of_case)
    return Service(
        settings=settings,
        application=application,
        projection=board,
        routers=api.routers,
        description="Community tier: cases, case managers (social workers), follow-up visits "
        "and their deadlines, referrals, emergencies, screening, recovery plans and referrals to "
        "social services.",
        consumes=CONSUMES,
        policy=policy(application),
        due_work=deadlines,
        access=access,
    )


main = entry_point(bootstrap)
"""The `carenet-casework` command."""
