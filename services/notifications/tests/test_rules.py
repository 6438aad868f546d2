"""The notification rule table, given / when / then."""

from __future__ import annotations

import json
from pathlib import Path

from carenet_contracts import parse_message
from carenet_notifications.rules import plan

MESSAGES = Path(__file__).parents[3] / "contracts" / "tests" / "messages"


def message(name: str, **data_changes: object):  # type: ignore[no-untyped-def]
    raw = json.loads((MESSAGES / f"{name}.v1.json").read_text())
    raw["data"].update(data_changes)
    return parse_message(json.dumps(raw).encode())


def test_the_center_hears_of_a_routed_patient() -> None:
    assert [p.recipient for p in plan(message("PatientRouted"))] == ["center:CHC-NS-NANTOU"]


def test_the_case_manager_hears_of_the_assignment() -> None:
    assert [p.recipient for p in plan(message("CaseManagerAssigned"))] == ["staff:SW-NS-LI"]


def test_a_visit_at_risk_3_or_more_reaches_the_case_manager_and_the_centers_doctors() -> None:
    planned = plan(message("VisitCompleted", risk_level=3))
    assert [(p.recipient, p.urgency) for p in planned] == [
        ("staff:SW-NS-LI", "high"),
        ("role:CHC-NS-NANTOU/community_doctor", "high"),
    ]


def test_a_visit_below_risk_3_notifies_nobody() -> None:
    assert plan(message("VisitCompleted", risk_level=2)) == []


def test_deliveries_themselves_notify_nobody() -> None:
    assert plan(message("NotificationDelivered")) == []
