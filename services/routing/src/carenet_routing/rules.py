"""The routing part of the care-pathway rule set (`care-pathway-rules.md`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

RULE_SET_VERSION = "nhc-2018/1"
CHINA = ZoneInfo("Asia/Shanghai")
"""Deadlines are calendar days at the centers, whatever the servers' time zone."""
FIRST_VISIT_WITHIN = timedelta(weeks=2)
MANUAL_ROUTING_WITHIN = timedelta(days=3)


def local_date(moment: datetime) -> date:
    """The calendar day in China at that moment (a UTC date is a day behind before 08:00)."""
    return moment.astimezone(CHINA).date()


def first_visit_due(received_on: date) -> date:
    """The community center makes the first visit within two weeks of receiving the patient."""
    return received_on + FIRST_VISIT_WITHIN


def manual_routing_due(held_on: date) -> date:
    return held_on + MANUAL_ROUTING_WITHIN


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
