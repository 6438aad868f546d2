"""Which routes and referrals have an open deadline, kept by following the notification log.

Each application instance keeps its own watch: it only says where to look. Whether a deadline
is really due, and that it is acted on once, is decided by the aggregate under optimistic
concurrency (`carenet_kit.scheduler.act_once_each`).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from carenet_kit.application import ServiceApplication
from carenet_routing.domain import Referral, Route

_OPENS = (Route.HeldForManualRouting, Referral.Issued)
_CLOSES = (
    Route.Routed,
    Route.Transferred,
    Route.KeptAtCenter,
    Route.ResidenceChanged,
    Route.ManualRoutingOverdue,
    Referral.HospitalAnswered,
    Referral.Withdrawn,
    Referral.AcceptDeadlinePassed,
)
TOPICS = [get_topic(cls) for cls in (*_OPENS, *_CLOSES)]


class DueWatch:
    def __init__(self) -> None:
        self.position = 0
        self.manual_routing: dict[UUID, date] = {}
        self.acceptance: dict[UUID, datetime] = {}

    def catch_up(self, app: ServiceApplication) -> None:
        while notifications := app.process_recorder.select_notifications(
            self.position, 500, topics=TOPICS, inclusive_of_start=False
        ):
            for notification in notifications:
                self._apply(app.mapper.to_domain_event(notification))
                self.position = notification.id

    def _apply(self, e: DomainEventProtocol[UUID]) -> None:
        match e:
            case Route.HeldForManualRouting():
                self.manual_routing[e.originator_id] = e.route_by
            case Referral.Issued():
                self.acceptance[e.originator_id] = e.accept_by
            case _:
                self.manual_routing.pop(e.originator_id, None)
                self.acceptance.pop(e.originator_id, None)

    def routes_overdue(self, today: date) -> list[UUID]:
        return [route for route, due in self.manual_routing.items() if today > due]

    def referrals_unaccepted(self, now: datetime) -> list[UUID]:
        return [referral for referral, due in self.acceptance.items() if now >= due]
