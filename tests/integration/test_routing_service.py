"""Routing as a process against the real broker: directory, transfers and the referral saga.

The service consumes intake's and casework's topics and publishes on its own; these tests
produce the inbound messages themselves and read what routing publishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from carenet_contracts import Envelope

from ..e2e.conftest import eventually
from .test_services import Harness, once_known, persistence, reads_of, start_service

__all__ = ["persistence"]  # the fixture: SQLite, then PostgreSQL

SQLITE = {"CARENET_PERSISTENCE": "sqlite"}
OPERATOR = "OP-ZHAO"
"""Runs the directory and the manual routing queue (reference/demo-users.yaml)."""
NANTOU_STAFF = "SW-NS-LI"
"""A social worker of CHC-NS-NANTOU, the center of region 440305001."""
SHEKOU_STAFF = "SW-NS-WANG"
"""A social worker of CHC-NS-SHEKOU, the center of region 440305005."""


@pytest.fixture
def routing(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("routing", kafka_bootstrap, SQLITE, tmp_path)


@pytest.fixture
def routing_on_each_store(
    kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[Harness]:
    """Routing on SQLite, then on PostgreSQL (`persistence` is parametrised)."""
    yield from start_service("routing", kafka_bootstrap, persistence, tmp_path)


def published_about(harness: Harness, patient_id: str, count: int) -> list[Envelope[Any]]:
    """Routing's care events about the patient, once there are `count` of them (without the
    access log's `RecordAccessed`, see `reads_about`)."""

    def probe() -> list[Envelope[Any]] | None:
        found = [
            m
            for m in harness.published("routing")
            if str(m.patient_id) == patient_id and m.event_type != "RecordAccessed"
        ]
        return found if len(found) >= count else None

    return eventually(probe)


def reads_about(harness: Harness, patient_id: str) -> list[Any]:
    """The recorded reads of the patient's record at routing (`RecordAccessed` payloads)."""
    return reads_of(patient_id, harness.published("routing"))


def routed_patient(harness: Harness, region_code: str = "440305001") -> str:
    patient_id = str(uuid4())
    harness.send("intake", "DiagnosisRecorded", patient_id, region_code=region_code)
    published_about(harness, patient_id, 1)
    return patient_id


def client(harness: Harness, user: str = NANTOU_STAFF) -> httpx.Client:
    return harness.client(user)


def test_a_directory_change_is_recorded_by_the_next_route(routing: Harness) -> None:
    with client(routing, OPERATOR) as http:
        before = http.get("/v1/directory").json()["version"]
        response = http.post(
            "/v1/directory/centers/CHC-NS-NANTOU/catchment",
            json={"region_code": "440305004", "operator_id": OPERATOR},
        )
        assert response.status_code == 200, response.text
        version = response.json()["directory_version"]
        assert version == before + 1
        taken = http.post(
            "/v1/directory/centers/CHC-NS-XILI/catchment",
            json={"region_code": "440305004", "operator_id": OPERATOR},
        )
        assert taken.status_code == 409
        assert "CHC-NS-NANTOU" in taken.json()["detail"]
        assert http.get("/v1/directory/centers/CHC-NS-NOWHERE").status_code == 404

    patient_id = routed_patient(routing, region_code="440305004")
    [routed] = published_about(routing, patient_id, 1)
    assert routed.event_type == "PatientRouted"
    assert routed.data.center_id == "CHC-NS-NANTOU"
    assert routed.data.directory_version == version
    assert routed.data.social_worker_ids == ["SW-NS-LI", "SW-NS-CHEN"]


def test_a_move_transfers_the_patient_or_waits_for_an_operator(routing: Harness) -> None:
    patient_id = routed_patient(routing, region_code="440305001")
    residence = f"/v1/routes/{patient_id}/residence"
    with client(routing) as nantou, client(routing, SHEKOU_STAFF) as shekou:
        # the patient's center records the move, once the network knows where they are
        moved = once_known(
            lambda: nantou.post(
                residence, json={"region_code": "440305005", "moved_on": "2026-11-01"}
            )
        )
        assert moved.status_code == 202, moved.text
        assert moved.json() == {"outcome": "transferred", "center_id": "CHC-NS-SHEKOU"}
        # ... and the next move, the center the patient was transferred to
        nowhere = once_known(
            lambda: shekou.post(
                residence, json={"region_code": "440399001", "moved_on": "2026-11-02"}
            )
        )
        assert nowhere.json() == {"outcome": "pending", "center_id": "CHC-NS-SHEKOU"}
    with client(routing, OPERATOR) as http:
        by_hand = http.post(
            f"/v1/routes/{patient_id}/manual",
            json={"center_id": "CHC-NS-XILI", "operator_id": OPERATOR},
        )
        assert by_hand.status_code == 202, by_hand.text
        unknown = http.post(
            f"/v1/routes/{uuid4()}/residence",
            json={"region_code": "440305005", "moved_on": "2026-11-01"},
        )
        assert unknown.status_code == 404

    messages = published_about(routing, patient_id, 4)
    assert [m.event_type for m in messages] == [
        "PatientRouted",
        "PatientTransferred",
        "RoutingPending",
        "PatientTransferred",
    ]
    first, second = messages[1].data, messages[3].data
    assert (first.from_center_id, first.to_center_id) == ("CHC-NS-NANTOU", "CHC-NS-SHEKOU")
    assert first.social_worker_ids == ["SW-NS-WANG", "SW-NS-ZHAO", "SW-NS-HUANG"]
    assert (second.from_center_id, second.to_center_id) == ("CHC-NS-SHEKOU", "CHC-NS-XILI")
    assert str(second.moved_on) == "2026-11-02"


def test_a_new_center_routes_the_patient_waiting_for_its_catchment(routing: Harness) -> None:
    """Given a patient waiting in the manual queue (no catchment holds 440399001), when an
    operator registers a center whose catchment holds the district, then routing publishes
    PatientRouted for the patient, naming the directory version of that change."""
    patient_id = str(uuid4())
    routing.send("intake", "DiagnosisRecorded", patient_id, region_code="440399001")
    [pending] = published_about(routing, patient_id, 1)
    assert pending.event_type == "RoutingPending"

    with client(routing, OPERATOR) as http:
        created = http.post(
            "/v1/directory/centers",
            json={"center_id": "CHC-NEW", "name": "New", "catchment": ["440399"],
                  "operator_id": OPERATOR},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        version = created.json()["directory_version"]

        routed = published_about(routing, patient_id, 2)[1]
        assert routed.event_type == "PatientRouted"
        assert (routed.data.center_id, routed.data.routed_by) == ("CHC-NEW", "catchment")
        assert routed.data.directory_version == version
        assert eventually(lambda: http.get("/v1/routing-queue").json() == [] or None)


def referral(harness: Harness) -> tuple[str, UUID]:
    patient_id = routed_patient(harness)
    referral_id = uuid4()
    harness.send("casework", "ReferralRequested", patient_id, referral_id=str(referral_id))
    issued = published_about(harness, patient_id, 2)[-1]
    assert issued.event_type == "ReferralIssued"
    assert issued.data.hospital_id == "H-SZ-KANGNING"  # the diagnosing hospital, certified
    return patient_id, referral_id


def test_a_declined_referral_escalates_and_a_withdrawn_one_is_cancelled(
    routing_on_each_store: Harness,
) -> None:
    harness = routing_on_each_store
    declined_patient, declined = referral(harness)
    withdrawn_patient, withdrawn = referral(harness)

    harness.send(
        "intake",
        "ReferralDeclined",
        declined_patient,
        referral_id=str(declined),
        reason="no bed",
    )
    harness.send("casework", "ReferralWithdrawn", withdrawn_patient, referral_id=str(withdrawn))

    escalated = published_about(harness, declined_patient, 3)[-1]
    assert escalated.event_type == "ReferralEscalated"
    assert (escalated.data.cause, escalated.data.referral_open) == ("declined", False)
    assert escalated.data.detail == "declined by H-SZ-KANGNING: no bed"
    cancelled = published_about(harness, withdrawn_patient, 3)[-1]
    assert cancelled.event_type == "ReferralCancelled"
    assert cancelled.data.hospital_id == "H-SZ-KANGNING"

    with client(harness) as http:  # the referring center
        view = eventually(
            lambda: (r := http.get(f"/v1/referrals/{declined}").json()).get("stage") == "declined"
            and r
        )
        assert view["escalations"] == ["declined by H-SZ-KANGNING: no bed"]

        def listed() -> set[str]:
            found = http.get("/v1/referrals", params={"center_id": "CHC-NS-NANTOU"}).json()
            return {r["referral_id"] for r in found}

        assert eventually(lambda: {str(declined), str(withdrawn)} <= listed() or None)
    # both reads of the record are recorded, by whom, what and with which outcome
    read = {
        (NANTOU_STAFF, "routing.read_referral", "granted"),
        (NANTOU_STAFF, "routing.referrals_of_center", "granted"),
    }
    eventually(
        lambda: read
        <= {(r.reader_id, r.record, r.outcome) for r in reads_about(harness, declined_patient)}
        or None
    )


def test_a_repeated_decline_and_an_unknown_referral_change_nothing(routing: Harness) -> None:
    patient_id, referral_id = referral(routing)
    for _ in range(2):
        routing.send("intake", "ReferralDeclined", patient_id, referral_id=str(referral_id))
    routing.send("intake", "ReferralAccepted", patient_id, referral_id=str(uuid4()))
    assert eventually(lambda: routing.dead_letters() == 1 or None)  # the unknown referral
    marker = routed_patient(routing)  # recorded after everything above
    with client(routing) as http:
        eventually(lambda: http.get(f"/v1/routes/{marker}").status_code == 200 or None)
        view = http.get(f"/v1/referrals/{referral_id}").json()
    assert view["stage"] == "declined"
    assert len(view["escalations"]) == 1
    assert [m.event_type for m in published_about(routing, patient_id, 3)] == [
        "PatientRouted",
        "ReferralIssued",
        "ReferralEscalated",
    ]
