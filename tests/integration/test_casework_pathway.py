"""Casework alone against the real broker: referral, admission, discharge and transfer.

Upstream events are produced onto the routing and intake topics; casework's reactions are
read back from its own topic and its API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from ..e2e.conftest import eventually
from ..e2e.pathway import visit
from .test_services import Harness, of, persistence, routed, social_workers, start_service

__all__ = ["persistence"]  # the fixture: SQLite, then PostgreSQL

CENTER = "CHC-NS-NANTOU"
STAFF = "SW-NS-LI"
"""A social worker of CENTER (reference/demo-users.yaml), the case manager's colleague."""
NEW_CENTER_STAFF = "SW-NS-WANG"
"""A social worker of CHC-NS-SHEKOU, where a transferred patient goes."""


@pytest.fixture
def casework(
    kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[Harness]:
    yield from start_service("casework", kafka_bootstrap, persistence, tmp_path)


def cases_of(api: Any, patient: str) -> list[Any]:
    """The patient's cases, once the access graph has heard where the patient is routed."""
    return eventually(lambda: api.get("/v1/cases", params={"patient_id": patient}).json())


def published_of(harness: Harness, patient: str) -> list[Any]:
    return [m for m in harness.published("casework") if str(m.patient_id) == patient]


def test_a_risk_4_visit_refers_and_the_discharged_patient_is_due_back_within_two_weeks(
    casework: Harness,
) -> None:
    _, value, patient = routed(CENTER)
    casework.publish("routing", value)
    eventually(lambda: "CaseManagerAssigned" in of(patient, casework.published("casework")) or None)
    api = casework.client(STAFF)
    (case,) = cases_of(api, patient)

    response = api.post(f"/v1/cases/{case['case_id']}/visits", json=visit(risk_level=4))
    assert response.status_code == 201, response.text
    assert response.json()["classification"] == "unstable"
    referral_id = response.json()["referral_id"]
    requested = eventually(
        lambda: [m for m in published_of(casework, patient) if m.event_type == "ReferralRequested"]
    )
    assert str(requested[0].data.referral_id) == referral_id
    assert (requested[0].data.reason, requested[0].data.risk_level) == ("risk", 4)

    admission = str(uuid4())
    admitted_on = date.today()
    casework.send(
        "intake",
        "PatientAdmitted",
        patient,
        admission_id=admission,
        referral_id=referral_id,
        admitted_on=admitted_on.isoformat(),
    )
    eventually(
        lambda: api.get(f"/v1/cases/{case['case_id']}").json()["status"] == "in_hospital" or None
    )
    discharged_on = admitted_on + timedelta(days=20)
    casework.send(
        "intake",
        "PatientDischarged",
        patient,
        admission_id=admission,
        referral_id=referral_id,
        discharged_on=discharged_on.isoformat(),
    )
    scheduled = eventually(
        lambda: [m for m in published_of(casework, patient) if m.event_type == "FollowUpScheduled"]
    )
    assert scheduled[0].data.due_on == discharged_on + timedelta(days=14)
    resumed = api.get(f"/v1/cases/{case['case_id']}").json()
    assert (resumed["status"], resumed["open_referral_id"]) == ("active", None)


def test_a_transfer_closes_the_old_case_and_opens_the_new_one_with_its_history(
    casework: Harness,
) -> None:
    _, value, patient = routed(CENTER)
    casework.publish("routing", value)
    eventually(lambda: "CaseManagerAssigned" in of(patient, casework.published("casework")) or None)
    casework.send(
        "routing",
        "PatientTransferred",
        patient,
        from_center_id=CENTER,
        to_center_id="CHC-NS-SHEKOU",
        social_worker_ids=social_workers("CHC-NS-SHEKOU"),
    )
    case_events = {"CaseOpened", "CaseManagerAssigned", "CaseClosed"}

    def case_history() -> list[Any]:
        return [m for m in published_of(casework, patient) if m.event_type in case_events]

    eventually(lambda: len(case_history()) >= 5 or None)
    assert [m.event_type for m in case_history()] == [
        "CaseOpened",
        "CaseManagerAssigned",
        "CaseClosed",
        "CaseOpened",
        "CaseManagerAssigned",
    ]
    old_opened, _, closed, new_opened, _ = case_history()
    assert closed.data.continued_by_case_id == new_opened.data.case_id
    assert new_opened.data.transferred_from_case_id == old_opened.data.case_id
    assert new_opened.data.center_id == "CHC-NS-SHEKOU"
    cases = cases_of(casework.client(NEW_CENTER_STAFF), patient)
    assert sorted(c["status"] for c in cases) == ["active", "closed"]
    # the old center no longer sees the patient's cases, once it hears of the transfer
    old = casework.client(STAFF)
    assert eventually(
        lambda: old.get("/v1/cases", params={"patient_id": patient}).json() == [] or None
    )


def test_a_declined_referral_asks_for_a_joint_follow_up_and_lets_the_next_visit_refer_again(
    casework: Harness,
) -> None:
    _, value, patient = routed(CENTER)
    casework.publish("routing", value)
    eventually(lambda: "CaseManagerAssigned" in of(patient, casework.published("casework")) or None)
    api = casework.client(STAFF)
    (case,) = cases_of(api, patient)
    first = api.post(f"/v1/cases/{case['case_id']}/visits", json=visit(risk_level=4)).json()

    casework.send(
        "routing",
        "ReferralEscalated",
        patient,
        referral_id=first["referral_id"],
        reason="declined by H-SZ-KANGNING: no_bed_available",
        referral_open=False,
    )
    scheduled = eventually(
        lambda: [m for m in published_of(casework, patient) if m.event_type == "FollowUpScheduled"]
    )
    assert scheduled[0].data.due_on.isoformat() == first["next_follow_up_due"]
    assert "joint follow-up" in scheduled[0].data.reason
    assert "no_bed_available" in scheduled[0].data.reason
    # the case view (a projection) follows the store independently of the relay
    eventually(
        lambda: api.get(f"/v1/cases/{case['case_id']}").json()["open_referral_id"] is None or None
    )

    second = api.post(f"/v1/cases/{case['case_id']}/visits", json=visit(risk_level=4)).json()
    assert second["referral_id"] not in (None, first["referral_id"])
