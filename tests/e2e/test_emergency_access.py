"""End to end: break the glass. A clinician outside the patient's network asks for emergency
access with a reason; it is granted for a limited time, published, notified to the patient's
center, and every read made under it names the grant."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import System, eventually
from .pathway import CENTER_STAFF, CLINICIAN, diagnose_new_patient

pytestmark = pytest.mark.e2e

OUTSIDER = "DR-BJ-ZHANG"
"""A clinician of a Beijing hospital: no relation to a Shenzhen patient."""


def test_an_emergency_grant_opens_the_record_to_its_holder_only_and_is_told_and_logged(
    system: System,
) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial=9500)
    with system.client("casework", CENTER_STAFF) as casework:
        eventually(lambda: casework.get("/v1/cases", params={"patient_id": patient_id}).json())

    record = f"/v1/patients/{patient_id}"
    with system.client("intake", OUTSIDER) as outsider:
        assert outsider.get(record).status_code == 404  # not even that the patient exists
    with system.client("audit", OUTSIDER) as audit:
        refused = audit.post("/v1/emergency-accesses", json={"patient_id": patient_id})
        assert refused.status_code == 422  # no reason, no access
        granted = audit.post(
            "/v1/emergency-accesses",
            json={"patient_id": patient_id, "reason": "Acute psychosis in our emergency room"},
        )
    assert granted.status_code == 201, granted.text
    grant_id = granted.json()["grant_id"]

    with system.client("intake", OUTSIDER) as outsider:
        read = eventually(lambda: (r := outsider.get(record)).status_code == 200 and r)
        assert read.json()["name"]  # the identity, for the emergency
        assert outsider.post(f"{record}/admissions", json={}).status_code == 403  # reads only
    with system.client("intake", ("DR-BJ-OTHER", "H-BJ-ANDING", "clinician")) as colleague:
        assert colleague.get(record).status_code == 404  # the grant is personal

    def center_told() -> list[dict[str, Any]]:
        with system.inbox_reader("center:CHC-NS-NANTOU") as notifications:
            items = notifications.get(
                "/v1/inbox", params={"recipient": "center:CHC-NS-NANTOU"}
            ).json()
        return [
            i
            for i in items
            if i["patient_id"] == patient_id and i["about_event_type"] == "EmergencyAccessGranted"
        ]

    (told,) = eventually(center_told, timeout=60)
    assert told["urgency"] == "urgent"

    def logged() -> list[Any]:
        return [
            m
            for m in system.messages("intake", access_log=True)
            if str(m.patient_id) == patient_id
            and m.event_type == "RecordAccessed"
            and m.data.reader_id == OUTSIDER
        ]

    # denied before the grant (and while the service had not yet heard of it), then granted
    reads = eventually(
        lambda: (found := logged()) and found[-1].data.outcome == "granted" and found
    )
    assert (reads[0].data.outcome, reads[0].data.purpose) == ("denied", "care")
    assert {(m.data.outcome, m.data.purpose) for m in reads[:-1]} == {("denied", "care")}
    assert (reads[-1].data.purpose, str(reads[-1].data.emergency_access_id)) == (
        "emergency",
        grant_id,
    )
