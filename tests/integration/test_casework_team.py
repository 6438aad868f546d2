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
from .test_services import Harness, of, reads_of, routed, start_service

store = test_services.persistence
"""The store as a fixture parameter: SQLite, then PostgreSQL."""

SHEKOU_SOCIAL_WORKERS = {"SW-NS-WANG", "SW-NS-ZHAO", "SW-NS-HUANG"}
STAFF = "SW-NS-WANG"
"""A social worker of CHC-NS-SHEKOU (reference/demo-users.yaml), who runs the care network."""
RELATIVE = "5d0a3c8e-7f41-4b6a-9e2d-1c3b5a7f9e08"
"""The demo relative: the center links them under this pseudonymous member id."""


@pytest.fixture
def casework(kafka_bootstrap: str, store: dict[str, str], tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("casework", kafka_bootstrap, store, tmp_path)


def ok(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_the_care_network_of_a_routed_patient_reaches_the_casework_topic(
    casework: Harness,
) -> None:
    _, value, patient = routed("CHC-NS-SHEKOU")
    casework.publish("routing", value)
    http = casework.client(STAFF)
    relative_http = casework.client(RELATIVE)

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
                "member_id": RELATIVE,
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
    # the relative reads their own view, once the network has heard of their consent
    assert "next_appointment" in eventually(
        lambda: (r := relative_http.get(view)).status_code == 200
        and (v := r.json()).get("next_appointment")
        and v
    )
    withdraw = {"withdrawn_by": "patient"}
    ok(http.post(f"/v1/patients/{patient}/family/{relative}/withdraw", json=withdraw), 204)
    ok(relative_http.get(view), 404)

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
        care = [m for m in mine if m.event_type != "RecordAccessed"]
        return mine if len(care) >= len(expected) else None

    everything = eventually(stream)
    messages = [m for m in everything if m.event_type != "RecordAccessed"]
    assert [m.event_type for m in messages] == expected
    # one stream per patient: the reads of the record are recorded on it, in order
    assert [m.sequence for m in everything] == list(range(1, len(everything) + 1))
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
    reads = {(r.reader_id, r.record, r.outcome) for r in reads_of(patient, everything)}
    assert {
        (STAFF, "casework.read_team", "granted"),
        (relative, "casework.family_view", "granted"),
    } <= reads
    http.close()
    relative_http.close()
