"""Routing's part of the care-pathway rules (`care-pathway-rules.md`).

The numbers are the `routing` section of the network's one rule set (`rules/nhc-2018.yaml`;
`carenet_kit.rule_set`); every routing decision records the rule set's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from pydantic import PositiveInt

from carenet_kit.rule_set import RuleSection


class RoutingRules(RuleSection):
    section: ClassVar = "routing"

    first_visit_within_days: PositiveInt
    manual_routing_within_days: PositiveInt

    def first_visit_due(self, received_on: date) -> date:
        """The community center makes the first visit within two weeks of receiving the
        patient."""
        return received_on + timedelta(days=self.first_visit_within_days)

    def manual_routing_due(self, held_on: date) -> date:
        """An operator routes a patient that no catchment holds within this."""
        return held_on + timedelta(days=self.manual_routing_within_days)


@dataclass(frozen=True)
class AcceptWindows:
    """How long a hospital has to accept a community referral before it escalates.

    An emergency (relapse, harm, self-harm, overdose) must be handled within the rules'
    24 hours, so the hospital has to answer well inside that: 2 hours by default.
    """

    normal: timedelta = timedelta(hours=24)
    emergency: timedelta = timedelta(hours=2)

    def for_reason(self, reason: str) -> timedelta:
        return self.emergency if reason == "emergency" else self.normal
