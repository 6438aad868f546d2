"""Notifications: wires the service together and serves it."""

from __future__ import annotations

from carenet_access import AccessControl
from carenet_kit.clock import Clock
from carenet_kit.runtime import Service, entry_point
from carenet_notifications import api
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.channels.mail import EmailSender
from carenet_notifications.channels.webhook import WebhookSender
from carenet_notifications.config import Settings
from carenet_notifications.dispatch import Dispatcher
from carenet_notifications.outbox import to_integration_event
from carenet_notifications.policy import policy
from carenet_notifications.projection import Inboxes
from carenet_notifications.rules import RuleTable


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    application = NotificationsApplication(
        settings.eventsourcing_env(),
        outbound=to_integration_event,
        clock=clock,
        rule_table=RuleTable.load(settings.rule_set_file),
        delivery_policy=settings.delivery_policy(),
        require_https_webhooks=settings.webhooks_need_https,
    )
    dispatcher = Dispatcher(
        application,
        senders={
            "webhook": WebhookSender(settings.webhook_timeout_seconds),
            "email": EmailSender(settings.smtp_server()),
        },
        public_url=settings.public_url,
        snapshots=settings.snapshot_schedule(),
    )
    access = AccessControl(settings.service, application)
    return Service(
        settings=settings,
        application=application,
        projection=Inboxes(application),
        routers=[api.router],
        description="Tells the right people of care events, through the right channels, once.",
        consumes=["intake", "routing", "casework", "audit"],
        policy=policy(application),
        due_work=dispatcher,
        access=access,
    )


main = entry_point(bootstrap)
"""The `carenet-notifications` command."""
