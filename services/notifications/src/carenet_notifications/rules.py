"""Who is told of what, as data: event type -> recipient roles, urgency, channel.

Recipients are addresses, never personal data: `center:<id>` (the center's intake desk),
`staff:<id>` (one staff member), `role:<organisation>/<role>` (everyone with that role there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from carenet_contracts import Envelope
from carenet_contracts.casework import CaseManagerAssigned, VisitCompleted
from carenet_contracts.routing import PatientRouted, RoutingPending

RULES_VERSION = "notify-2026/1"

Recipients = Callable[[Any], list[str]]


@dataclass(frozen=True)
class NotificationRule:
    contract: type
    recipients: Recipients
    urgency: str
    channel: str
    summary: Callable[[Any], str]
    applies: Callable[[Any], bool] = lambda data: True


RULES: tuple[NotificationRule, ...] = (
    NotificationRule(
        contract=PatientRouted,
        recipients=lambda d: [f"center:{d.center_id}"],
        urgency="normal",
        channel="inbox",
        summary=lambda d: f"A patient was routed to you; first visit due by {d.first_visit_due}.",
    ),
    NotificationRule(
        contract=RoutingPending,
        recipients=lambda d: ["role:network/routing_operator"],
        urgency="high",
        channel="inbox",
        summary=lambda d: f"A patient awaits manual routing by {d.route_by}: {d.reason}.",
    ),
    NotificationRule(
        contract=CaseManagerAssigned,
        recipients=lambda d: [f"staff:{d.case_manager_id}"],
        urgency="normal",
        channel="inbox",
        summary=lambda d: f"You are the case manager of a new case at {d.center_id}.",
    ),
    NotificationRule(
        contract=VisitCompleted,
        applies=lambda d: d.risk_level >= 3,
        recipients=lambda d: [f"staff:{d.case_manager_id}", f"role:{d.center_id}/community_doctor"],
        urgency="high",
        channel="inbox",
        summary=lambda d: (
            f"Visit on {d.visited_on} assessed risk level {d.risk_level} "
            f"({d.classification}); next follow-up due {d.next_follow_up_due}."
        ),
    ),
)


@dataclass(frozen=True)
class Planned:
    recipient: str
    urgency: str
    channel: str
    summary: str


def plan(envelope: Envelope[Any]) -> list[Planned]:
    """The notifications one event calls for, by the rule table."""
    return [
        Planned(recipient, rule.urgency, rule.channel, rule.summary(envelope.data))
        for rule in RULES
        if isinstance(envelope.data, rule.contract) and rule.applies(envelope.data)
        for recipient in rule.recipients(envelope.data)
    ]
