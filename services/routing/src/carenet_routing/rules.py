"""The routing part of the care-pathway rule set (`care-pathway-rules.md`)."""

from __future__ import annotations

from datetime import date, timedelta

RULE_SET_VERSION = "nhc-2018/1"
FIRST_VISIT_WITHIN = timedelta(weeks=2)
MANUAL_ROUTING_WITHIN = timedelta(days=3)


def first_visit_due(routed_on: date) -> date:
    """The community center makes the first visit within two weeks of receiving the patient."""
    return routed_on + FIRST_VISIT_WITHIN


def manual_routing_due(held_on: date) -> date:
    return held_on + MANUAL_ROUTING_WITHIN
