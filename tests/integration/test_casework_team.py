"""Casework's care network against the real broker and a real store (SQLite, then PostgreSQL).

A routed patient gets a care team; reassignment, team changes, family consent and session
attendance reach casework's topic in order, on the patient's own stream, with no name or
contact data, and a withdrawn relative sees nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..e2e.conftest import eventually
from . import test_services
from .test_services import Harness, of, routed, start_service

store = test_services.persistence
"""The store as a fixture parameter: SQLite, then PostgreSQL."""

SHEKOU_SOCIAL_WORKERS = {"SW-NS-WANG", "SW-NS-ZHAO", "SW-NS-HUANG"}


@pytest.fixture
def casework(kafka_bootstrap: str, store: dict[str, str], tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("casework", kafka_bootstrap, store, tmp_path)


def ok(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_the_care_network_of_a_routed_patient_reaches_the_casework_topic(
    casework: Harness,
) -> None:
    key, value, patient = routed("CHC-NS-SHEKOU")
    casework.produce("routing", key, value)
    http = httpx.Client(base_url=casework.process.url, timeout=30)

    def team() -> Any:
        response = http.get(f"/v1/patients/{patient}/care-team")
        return response.json() if response.status_code == 200 else None

    formed = eventually(team)
    (first_manager,) = [m["member_id"] for m in formed["members"]]
    assert first_manager in SHEKOU_SOCIAL_WORKERS
    case_id = formed["case_id"]

    new_manager = sorted(SHEKOU_SOCIAL_WORKERS - {first_manager})[0]
    reassign = {"case_manager_id": new_manager, "reason": "leave"}
    ok(http.post(f"/v1/cases/{case_id}/case-manager", json=reassign), 200)
    outsider = {"case_manager_id": "SW-NS-LI", "reason": "caseload"}
    ok(http.post(f"/v1/cases/{case_id}/case-manager", json=outsider), 422)
    police = {"member_id": "PL-NS-01", "role": "police_liaison"}
    ok(http.post(f"/v1/patients/{patient}/care-team", json=police), 201)
    relative = ok(
        http.post(
            f"/v1/patients/{patient}/family",
            json={
                "relationship": "parent",
                "consent_given_by": "patient",
                "scope": {"may_see": ["appointments"], "notified_of": ["VisitCompleted"]},
            },
        ),
        201,
    )["member_id"]
    session = {
        "kind": "group_activity",
        "topic": "handcrafts",
        "held_on": date.today().isoformat(),
        "duration_minutes": 90,
        "facilitator_id": "PS-NS-01",
        "attendees": [patient],
    }
    ok(http.post("/v1/centers/CHC-NS-SHEKOU/sessions", json=session), 201)
    view = f"/v1/patients/{patient}/family/{relative}/view"
    assert "next_appointment" in eventually(
        lambda: (v := ok(http.get(view), 200)).get("next_appointment") and v
    )
    withdraw = {"withdrawn_by": "patient"}
    ok(http.post(f"/v1/patients/{patient}/family/{relative}/withdraw", json=withdraw), 204)
    ok(http.get(view), 404)

    expected = [
        "CaseOpened",
        "CaseManagerAssigned",
        "CareTeamMemberJoined",
        "CaseManagerAssigned",
        "CareTeamMemberLeft",
        "CareTeamMemberJoined",
        "CareTeamMemberJoined",
        "FamilyMemberLinked",
        "CareTeamMemberJoined",
        "RehabilitationSessionAttended",
        "FamilyConsentWithdrawn",
        "CareTeamMemberLeft",
    ]

    def stream() -> list[Any] | None:
        mine = [m for m in casework.published("casework") if str(m.patient_id) == patient]
        return mine if len(mine) >= len(expected) else None

    messages = eventually(stream)
    assert [m.event_type for m in messages] == expected
    assert [m.sequence for m in messages] == list(range(1, len(expected) + 1))
    reassigned = messages[3].data
    assert (reassigned.previous_case_manager_id, reassigned.case_manager_id) == (
        first_manager,
        new_manager,
    )
    assert (messages[4].data.member_id, messages[4].data.reason) == (first_manager, "leave")
    assert (messages[8].data.member_id, messages[8].data.role) == (relative, "family_member")
    assert messages[9].data.topic == "handcrafts"
    assert messages[11].data.reason == "consent_withdrawn"
    assert of(patient, casework.published("casework")) == expected  # nothing after
    http.close()
