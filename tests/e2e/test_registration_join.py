"""End to end: a second certified hospital diagnoses a patient registered elsewhere. Its
registration answered as for anyone new; its diagnosis joins the one record, routing and
casework keep the one route and case, the hospital reads the patient from then on, the join is
in the access log and the patient's center is told (issue 14, point 2)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import System, eventually
from .pathway import CENTER_STAFF, CLINICIAN, diagnose_new_patient, diagnosis, registration

pytestmark = pytest.mark.e2e

SECOND = "DR-BJ-ZHANG"
"""A clinician of a Beijing hospital, H-BJ-ANDING: no relation to the patient until it joins."""
SECOND_HOSPITAL = "H-BJ-ANDING"
SERIAL = 9600


def test_a_second_hospitals_diagnosis_joins_the_record_and_the_center_is_told(
    system: System,
) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial=SERIAL)
    with system.client("casework", CENTER_STAFF) as casework:
        (case,) = eventually(
            lambda: casework.get("/v1/cases", params={"patient_id": patient_id}).json(),
            timeout=60,
        )

    with system.client("intake", SECOND) as beijing:
        registered = beijing.post(
            "/v1/patients", json=registration(SERIAL) | {"hospital_id": SECOND_HOSPITAL}
        )
        assert registered.status_code == 201, registered.text
        handle = registered.json()["patient_id"]
        assert beijing.get(f"/v1/patients/{patient_id}").status_code == 404
        joined = beijing.post(
            f"/v1/patients/{handle}/diagnoses",
            json=diagnosis() | {"hospital_id": SECOND_HOSPITAL, "clinician_id": SECOND},
        )
        assert joined.status_code == 201, joined.text
        assert joined.json()["patient_id"] == patient_id
        assert beijing.get(f"/v1/patients/{patient_id}").status_code == 200
    with system.client("routing", SECOND) as routing:  # the network hears of the diagnosis
        route = eventually(lambda: (r := routing.get(f"/v1/routes/{patient_id}")).is_success and r)
        assert route.json()["center_id"] == case["center_id"]  # not moved by it

    def center_told() -> list[dict[str, Any]]:
        with system.inbox_reader("center:CHC-NS-NANTOU") as notifications:
            items = notifications.get(
                "/v1/inbox", params={"recipient": "center:CHC-NS-NANTOU"}
            ).json()
        return [
            i
            for i in items
            if i["patient_id"] == patient_id and i["about_event_type"] == "RecordAccessed"
        ]

    (told,) = eventually(center_told, timeout=60)
    assert SECOND_HOSPITAL in told["summary"]
    intake_events = [m for m in system.messages("intake") if str(m.patient_id) == patient_id]
    assert [m.data.hospital_id for m in intake_events if m.event_type == "DiagnosisRecorded"] == [
        "H-SZ-KANGNING",
        SECOND_HOSPITAL,
    ]
    joins = [
        m.data
        for m in system.messages("intake", access_log=True)
        if str(m.patient_id) == patient_id
        and m.event_type == "RecordAccessed"
        and m.data.access == "join-care-network"
    ]
    assert [(j.reader_id, j.reader_organisation) for j in joins] == [(SECOND, SECOND_HOSPITAL)]
    with system.client("casework", CENTER_STAFF) as casework:
        cases = casework.get("/v1/cases", params={"patient_id": patient_id}).json()
    assert [c["case_id"] for c in cases] == [case["case_id"]]  # still the one case
