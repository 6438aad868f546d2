"""The audit read side: wires the service together and serves it."""

from __future__ import annotations

from datetime import timedelta

from carenet_access import AccessControl
from carenet_audit import api
from carenet_audit.application import AuditApplication
from carenet_audit.config import Settings
from carenet_audit.outbox import to_integration_event
from carenet_audit.policy import history_loader
from carenet_kit.clock import Clock
from carenet_kit.runtime import Service, entry_point


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    application = AuditApplication(
        settings.eventsourcing_env(),
        outbound=to_integration_event,
        clock=clock,
        emergency_access=timedelta(minutes=settings.emergency_access_minutes),
    )
    access = AccessControl(settings.service, application)
    return Service(
        settings=settings,
        application=application,
        projection=None,
        routers=[api.router],
        description=(
            "Each patient's whole history across the network, verbatim and signed, for auditors "
            "only; every request for it is itself recorded and published. Break-the-glass "
            "emergency access, time-limited and published."
        ),
        batch_consumers=[history_loader(settings, application.index)],
        access=access,
    )


main = entry_point(bootstrap)
"""The `carenet-audit-service` command."""
