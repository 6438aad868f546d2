"""Notifications: wires the service together and serves it."""

from __future__ import annotations

from carenet_kit.runtime import Service, serve
from carenet_notifications import api
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.config import Settings
from carenet_notifications.outbox import to_integration_event
from carenet_notifications.policy import policy
from carenet_notifications.projection import Inboxes


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    application = NotificationsApplication(
        settings.eventsourcing_env(), outbound=to_integration_event
    )
    return Service(
        settings=settings,
        application=application,
        projection=Inboxes(),
        routers=[api.router],
        description="Tells the right people of care events, through the right channel, once.",
        consumes=["intake", "routing", "casework"],
        policy=policy(application),
    )


def main() -> None:
    serve(bootstrap())


if __name__ == "__main__":
    main()
