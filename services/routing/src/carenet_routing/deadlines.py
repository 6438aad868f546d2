"""Which routes and referrals have an open deadline: a read model of the notification log.

Each application instance keeps its own watch: it only says where to look. Whether a deadline
is really due, and that it is acted on once, is decided by the aggregate under optimistic
concurrency (`carenet_kit.scheduler.act_once_each`). The kit's `LogFollower` keeps it current
and stores its snapshots, so a restart reads only what came after the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

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
EVENTS = (*_OPENS, *_CLOSES)
"""What the watch follows."""


@dataclass
class OpenDeadlines:
    manual_routing: dict[UUID, date] = field(default_factory=dict)
    """Routes held for manual routing, by the day they must be routed by."""
    acceptance: dict[UUID, datetime] = field(default_factory=dict)
    """Referrals issued, by when the hospital must have answered."""

    def apply(self, e: DomainEventProtocol[UUID]) -> None:
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
