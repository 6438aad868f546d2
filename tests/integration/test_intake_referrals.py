"""Intake alone against the real broker: late reports, and the hospital's side of referrals.

Routing's events are produced on routing's topic by the test; intake's are read back from
intake's topic. SQLite throughout, and the referral lifecycle on PostgreSQL too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from carenet_devtools.kafka import run_sync
from carenet_devtools.topics import consumer_lag, rewind_consumer_group

from ..e2e.conftest import eventually
from ..e2e.pathway import CLINICIAN, diagnosis, registration
from .test_services import (
    Harness,
    inbound,
    of,
    once_known,
    persistence,
    reads_of,
    start_service,
)

__all__ = ["persistence"]  # the fixture: SQLite, then PostgreSQL

HOSPITAL = "H-SZ-KANGNING"
"""The hospital the referrals are addressed to; CLINICIAN works there."""
OTHER_CLINICIAN = "DR-NS-LIU"
"""A clinician of H-SZ-NANSHAN, which diagnosed the referred patient in one test."""
FOREIGN_CLINICIAN = "DR-BJ-ZHANG"
"""A clinician of H-BJ-ANDING, in no relation to any patient of these tests."""
SQLITE = {"CARENET_PERSISTENCE": "sqlite"}


@pytest.fixture
def intake(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("intake", kafka_bootstrap, SQLITE, tmp_path)


@pytest.fixture
def intake_on_each_store(
    kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[Harness]:
    """Intake on SQLite, then on PostgreSQL (`persistence` is parametrised)."""
    yield from start_service("intake", kafka_bootstrap, persistence, tmp_path)


def client(harness: Harness, user: str = CLINICIAN) -> httpx.Client:
    return harness.client(user)


def issue_referral(harness: Harness, diagnosed_at: str | None = None) -> tuple[str, str]:
    """ReferralIssued on routing's topic for a fresh patient; returns patient and referral ids.
    With `diagnosed_at`, the patient was routed first, diagnosed at that hospital."""
    referral_id = str(uuid4())
    _, value, patient = inbound("ReferralIssued", referral_id=referral_id, hospital_id=HOSPITAL)
    if diagnosed_at is not None:
        _, routed, _ = inbound("PatientRouted", patient, diagnosing_hospital_id=diagnosed_at)
        harness.publish("routing", routed)
    harness.publish("routing", value)
    return patient, referral_id


def cancel_referral(harness: Harness, patient: str, referral_id: str) -> None:
    raw = json.loads(inbound("ReferralCancelled")[1])
    raw["patient_id"] = patient
    raw["data"].update(referral_id=referral_id, hospital_id=HOSPITAL)
    harness.publish("routing", json.dumps(raw).encode())


def worklist(harness: Harness, status: str = "open") -> dict[str, dict[str, Any]]:
    with client(harness) as http:
        response = http.get("/v1/referrals", params={"hospital_id": HOSPITAL, "status": status})
    assert response.status_code == 200, response.text
    return {r["referral_id"]: r for r in response.json()}


def mine(harness: Harness, patient: str) -> list[Any]:
    """Everything intake published about the patient, care events and recorded reads."""
    return [m for m in harness.published("intake") if str(m.patient_id) == patient]


def test_a_late_report_publishes_the_diagnosis_and_the_missed_deadline(intake: Harness) -> None:
    diagnosed_on = date.today() - timedelta(days=60)  # past 10 working days whatever the holidays
    body = diagnosis() | {"diagnosed_on": diagnosed_on.isoformat()}
    with client(intake) as http:
        patient = http.post("/v1/patients", json=registration(serial=7001)).json()["patient_id"]
        response = http.post(f"/v1/patients/{patient}/diagnoses", json=body)
        on_time = http.post(f"/v1/patients/{patient}/diagnoses", json=diagnosis())
    assert response.status_code == 201, response.text
    assert response.json()["reporting"]["late"] is True
    assert on_time.json()["reporting"]["late"] is False

    assert eventually(lambda: len(of(patient, intake.published("intake"))) == 3 or None)
    messages = [m for m in intake.published("intake") if str(m.patient_id) == patient]
    assert [m.event_type for m in messages] == [
        "DiagnosisRecorded",
        "ReportingDeadlineMissed",
        "DiagnosisRecorded",
    ]
    missed = messages[1].data
    assert missed.diagnosed_on == diagnosed_on
    assert missed.deadline == date.fromisoformat(response.json()["reporting"]["deadline"])
    assert missed.working_days_taken > 10
    assert missed.calendar_version.startswith("CN/holidays-")
    assert messages[0].correlation_id == messages[1].correlation_id


def test_a_referral_on_the_worklist_is_accepted_admitted_and_discharged(
    intake_on_each_store: Harness,
) -> None:
    intake = intake_on_each_store
    patient, referral_id = issue_referral(intake, diagnosed_at="H-SZ-NANSHAN")
    listed = eventually(lambda: worklist(intake).get(referral_id))
    assert (listed["patient_id"], listed["status"]) == (patient, "issued")

    accept = f"/v1/referrals/{referral_id}/accept"
    with client(intake, FOREIGN_CLINICIAN) as foreign:
        unknown = foreign.post(accept, json={"hospital_id": "H-BJ-ANDING"})
    with client(intake, OTHER_CLINICIAN) as diagnosing:
        other = once_known(lambda: diagnosing.post(accept, json={"hospital_id": "H-SZ-NANSHAN"}))
    with client(intake) as http:
        posing = http.post(accept, json={"hospital_id": "H-SZ-NANSHAN"})
        accepted = http.post(f"/v1/referrals/{referral_id}/accept", json={"hospital_id": HOSPITAL})
        early = http.post(f"/v1/patients/{patient}/discharge", json={"hospital_id": HOSPITAL})
        admit = {"hospital_id": HOSPITAL, "referral_id": referral_id}
        admitted = http.post(f"/v1/patients/{patient}/admissions", json=admit)
        again = http.post(f"/v1/patients/{patient}/admissions", json={"hospital_id": HOSPITAL})
        discharged = http.post(f"/v1/patients/{patient}/discharge", json={"hospital_id": HOSPITAL})

    # a hospital in no relation to the patient learns nothing; the diagnosing hospital may
    # not answer a referral addressed to another; no clinician acts for another hospital
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "not found")
    assert (other.status_code, other.json()["detail"]) == (
        422,
        "the referral is addressed to another hospital",
    )
    assert (posing.status_code, posing.json()["detail"]) == (403, "not your organisation")
    assert accepted.status_code == 200, accepted.text
    assert (early.status_code, early.json()["detail"]) == (
        409,
        "the patient is not admitted; there is nothing to discharge",
    )
    assert admitted.status_code == 201, admitted.text
    assert again.status_code == 409
    assert "already admitted" in again.json()["detail"]
    assert discharged.status_code == 200, discharged.text

    expected = ["ReferralAccepted", "PatientAdmitted", "PatientDischarged"]
    assert eventually(lambda: of(patient, intake.published("intake")) == expected or None)
    everything = mine(intake, patient)
    messages = [m for m in everything if m.event_type != "RecordAccessed"]
    admission_id = admitted.json()["admission_id"]
    assert {str(m.data.referral_id) for m in messages} == {referral_id}
    assert str(messages[1].data.admission_id) == str(messages[2].data.admission_id) == admission_id
    # one stream per patient: the worklist's reads of the record are on it too
    assert [m.sequence for m in everything] == list(range(1, len(everything) + 1))
    assert eventually(lambda: worklist(intake, "admitted").get(referral_id))
    assert referral_id not in worklist(intake)
    reads = eventually(lambda: reads_of(patient, intake.published("intake")))
    assert {(r.reader_id, r.record, r.outcome) for r in reads} == {
        (CLINICIAN, "intake.worklist", "granted")
    }


def test_a_cancelled_referral_leaves_the_worklist_and_cannot_be_accepted(
    intake: Harness,
) -> None:
    patient, referral_id = issue_referral(intake)
    cancel_referral(intake, patient, referral_id)
    eventually(lambda: worklist(intake, "cancelled").get(referral_id))
    assert referral_id not in worklist(intake)
    with client(intake) as http:
        response = http.post(f"/v1/referrals/{referral_id}/accept", json={"hospital_id": HOSPITAL})
    assert response.status_code == 409
    assert response.json()["detail"] == "the referral is cancelled; it cannot be accepted"
    assert of(patient, intake.published("intake")) == []
    assert reads_of(patient, intake.published("intake"))  # the worklist showed it


def test_a_redelivered_referral_changes_nothing(intake: Harness) -> None:
    patient, referral_id = issue_referral(intake)
    eventually(lambda: worklist(intake).get(referral_id))
    with client(intake) as http:
        response = http.post(f"/v1/referrals/{referral_id}/accept", json={"hospital_id": HOSPITAL})
    assert response.status_code == 200, response.text
    eventually(lambda: of(patient, intake.published("intake")) == ["ReferralAccepted"] or None)
    before = worklist(intake, "all")

    intake.process.stop()
    group = f"{intake.namespace}carenet-intake"
    topics = [intake.topic("routing")]
    run_sync(rewind_consumer_group(intake.bootstrap, group, topics))
    intake.process.start()
    intake.process.wait_ready()
    marker_patient, marker = issue_referral(intake)  # a marker, on whichever partition
    eventually(lambda: worklist(intake).get(marker))
    eventually(lambda: run_sync(consumer_lag(intake.bootstrap, group, topics)) == 0 or None)
    time.sleep(1)  # a repeated effect, had there been one, would now be visible

    after = worklist(intake, "all")
    del after[marker]
    assert after == before
    assert after[referral_id]["status"] == "accepted"
    assert of(patient, intake.published("intake")) == ["ReferralAccepted"]
    assert of(marker_patient, intake.published("intake")) == []
    assert intake.dead_letters() == 0
