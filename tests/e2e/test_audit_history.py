"""End to end: an auditor's `carenet-audit history` of a patient walked through the pathway
equals what the services published for that patient, and `--as-of` handles a late record.

The patient is diagnosed six days ago (reported today), routed, given a case manager, visited
today, and attended a peer-support session three days ago whose attendance is recorded only
now: it arrives late. (A visit cannot be the late record here: a visit before the case was
opened, today, is refused.) The auditor runs the real command line against the broker, with
the key set the services publish.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from carenet_contracts import Envelope
from carenet_kit.signing import key_set

from .conftest import System, eventually
from .pathway import CENTER_STAFF, CLINICIAN, centers_today, diagnosis, registration, visit

pytestmark = pytest.mark.e2e

PRODUCERS = ("intake", "routing", "casework", "notifications", "audit")
PRODUCER_ORDER = {p: n for n, p in enumerate(PRODUCERS)}
SERIAL = 7000


def carenet_audit(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    """The auditor's program, as installed with the project."""
    program = Path(sys.executable).with_name("carenet-audit")
    return subprocess.run(
        [str(program), *args, "--bootstrap", system.bootstrap, "--namespace", system.namespace],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def published(system: System, patient_id: str) -> list[Envelope[Any]]:
    """Everything the services published about the patient (reads of the record included), in
    the timeline's order."""
    messages = [
        m
        for p in PRODUCERS
        for m in system.messages(p, access_log=True)
        if str(m.patient_id) == patient_id
    ]
    return sorted(
        messages,
        key=lambda m: (m.occurred_at, m.recorded_at, PRODUCER_ORDER[m.producer], m.sequence),
    )


def history(system: System, patient_id: str, keys: Path, *extra: str) -> dict[str, Any]:
    done = carenet_audit(
        system, "history", patient_id, "--format", "json", "--keys", str(keys), *extra
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in events]


def case_of(system: System, patient_id: str) -> dict[str, Any] | None:
    with system.client("casework", CENTER_STAFF) as casework:
        cases = casework.get("/v1/cases", params={"patient_id": patient_id}).json()
    return cases[0] if cases and cases[0]["case_manager_id"] else None


def published_key_set(system: System, directory: Path) -> Path:
    """The network's key set, from each service's `/.well-known/jwks.json`."""
    keys = []
    for service in system.processes:
        response = httpx.get(f"{system.processes[service].url}/.well-known/jwks.json")
        assert response.status_code == 200, response.text
        keys.extend(response.json()["keys"])
    path = directory / "jwks.json"
    path.write_text(json.dumps(key_set(keys)))
    return path


def walk_a_patient_with_a_late_record(system: System) -> tuple[str, str]:
    """Diagnosed six days ago, routed, a case manager, a parent linked who is told of visits,
    a visit today and one three days ago recorded now. Returns the patient id and the late
    visit's id."""
    today = centers_today()
    diagnosed_on = (today - timedelta(days=6)).isoformat()
    with system.client("intake", CLINICIAN) as intake:
        response = intake.post("/v1/patients", json=registration(SERIAL))
        assert response.status_code == 201, response.text
        patient_id: str = response.json()["patient_id"]
        six_days_ago = diagnosis() | {"diagnosed_on": diagnosed_on}
        six_days_ago["consent"] = six_days_ago["consent"] | {"given_on": diagnosed_on}
        response = intake.post(f"/v1/patients/{patient_id}/diagnoses", json=six_days_ago)
        assert response.status_code == 201, response.text

    case = eventually(lambda: case_of(system, patient_id), timeout=60)
    with system.client("casework", CENTER_STAFF) as casework:
        linked = casework.post(
            f"/v1/patients/{patient_id}/family",
            json={
                "relationship": "parent",
                "consent_given_by": "patient",
                "scope": {"may_see": ["visits"], "notified_of": ["VisitCompleted"]},
            },
        )
        assert linked.status_code == 201, linked.text
        on_time = casework.post(f"/v1/cases/{case['case_id']}/visits", json=visit(risk_level=1))
        assert on_time.status_code == 201, on_time.text
        three_days_ago = {
            "kind": "peer_support",
            "topic": "social_skills",
            "held_on": (today - timedelta(days=3)).isoformat(),
            "duration_minutes": 60,
            "facilitator_id": "PS-NS-01",
            "attendees": [patient_id],
        }
        late = casework.post(f"/v1/centers/{case['center_id']}/sessions", json=three_days_ago)
        assert late.status_code == 201, late.text
    return patient_id, late.json()["session_id"]


def test_history_is_what_the_services_published_and_as_of_waits_for_the_late_record(
    system: System, tmp_path: Path
) -> None:
    patient_id, late_session_id = walk_a_patient_with_a_late_record(system)
    keys = published_key_set(system, tmp_path)

    def converged() -> tuple[dict[str, Any], list[Envelope[Any]]] | None:
        """The history and the topics agree once everything the visits caused is published."""
        expected = published(system, patient_id)
        visits = [m for m in expected if m.event_type == "VisitCompleted"]
        attended = [m for m in expected if m.event_type == "RehabilitationSessionAttended"]
        told = {m.data.about_event_id for m in expected if m.producer == "notifications"}
        if not (visits and attended) or not {m.event_id for m in visits} <= told:
            return None
        document = history(system, patient_id, keys)
        return (
            (document, expected)
            if ids(document["events"]) == [str(m.event_id) for m in expected]
            else None
        )

    document, expected = eventually(converged, timeout=60, every=1.0)

    events = document["events"]
    assert document["patient_id"] == patient_id
    assert document["as_of"] is None
    assert {e["signature"] for e in events} == {"verified"}
    assert {e["producer"] for e in events} == {"intake", "routing", "casework", "notifications"}
    # the parent's link (and place in the care team) and what the parent was told of the
    # visit are the family's lane
    family = [e for e in events if e["tier"] == "family"]
    assert sorted(e["event_type"] for e in family) == [
        "CareTeamMemberJoined",
        "FamilyMemberLinked",
        "NotificationDelivered",
    ]
    assert all(
        e["summary"].startswith("family:") and "of VisitCompleted" in e["summary"]
        for e in family
        if e["event_type"] == "NotificationDelivered"
    )
    # what happened first comes first, however late it was recorded
    diagnosed, late_record = expected[0], expected[1]
    assert diagnosed.event_type == "DiagnosisRecorded"
    assert (late_record.event_type, str(late_record.data.session_id)) == (
        "RehabilitationSessionAttended",
        late_session_id,
    )
    assert [(e["event_type"], e["tier"]) for e in events[:2]] == [
        ("DiagnosisRecorded", "hospital"),
        ("RehabilitationSessionAttended", "community"),
    ]
    # the two recorded days after they happened, and only they, are late
    assert {e["event_id"] for e in events if e["late"]} == {
        str(diagnosed.event_id),
        str(late_record.event_id),
    }
    assert [
        (e["occurred_at"], e["recorded_at"], e["sequence"], e["correlation_id"]) for e in events
    ] == [
        (m.occurred_at.isoformat(), m.recorded_at.isoformat(), m.sequence, str(m.correlation_id))
        for m in expected
    ]

    # between the late attendance's happening and its recording, the network did not know it
    recorded: datetime = late_record.recorded_at
    assert late_record.occurred_at < recorded - timedelta(days=2)
    before = recorded - timedelta(milliseconds=1)
    then = history(system, patient_id, keys, "--as-of", before.isoformat())
    assert ids(then["events"]) == [str(m.event_id) for m in expected if m.recorded_at <= before]
    assert str(late_record.event_id) not in ids(then["events"])
    assert then["events_recorded_after_as_of"] == sum(m.recorded_at > before for m in expected)
    after = history(system, patient_id, keys, "--as-of", recorded.isoformat())
    assert ids(after["events"])[:2] == [str(diagnosed.event_id), str(late_record.event_id)]
    assert ids(after["events"]) == [str(m.event_id) for m in expected if m.recorded_at <= recorded]

    page = tmp_path / "history.html"
    done = carenet_audit(system, "history", patient_id, "--format", "html", "--output", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert all(str(m.event_id)[:8] in html for m in expected)
    assert html.count('class="badge late"') == 2


def test_history_of_an_unknown_patient_is_empty(system: System) -> None:
    stranger = str(UUID(int=SERIAL))
    done = carenet_audit(system, "history", stranger, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == []
    assert "No event of patient" in done.stderr
