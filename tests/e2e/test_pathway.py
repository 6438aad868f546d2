"""End to end: a patient's pathway through five service processes and a real Kafka broker."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from carenet_devtools.kafka import run_sync
from carenet_devtools.topics import read_records
from carenet_kit.topics import DEAD_LETTER_TOPIC
from carenet_kit.wire import header

from .conftest import System, eventually
from .pathway import (
    CENTER_STAFF,
    CLINICIAN,
    OPERATOR,
    centers_today,
    diagnose_new_patient,
    diagnosis,
    inbox,
    registration,
    visit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.own_system]


def case_of(system: System, patient_id: str, user: str = CENTER_STAFF) -> dict[str, Any] | None:
    with system.client("casework", user) as casework:
        cases = casework.get("/v1/cases", params={"patient_id": patient_id}).json()
    return cases[0] if cases and cases[0]["case_manager_id"] else None


def test_a_diagnosis_reaches_route_case_manager_visit_and_notifications(system: System) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial=1)

    with system.client("routing", CENTER_STAFF) as routing:
        route = eventually(
            lambda: routing.get(f"/v1/routes/{patient_id}").json()
            if routing.get(f"/v1/routes/{patient_id}").status_code == 200
            else None
        )
    assert route["status"] == "routed"
    assert route["center_id"] == "CHC-NS-NANTOU"
    received_on = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # days count in China
    assert route["first_visit_due"] == (received_on + timedelta(weeks=2)).isoformat()

    case = eventually(lambda: case_of(system, patient_id))
    assert case["center_id"] == "CHC-NS-NANTOU"
    manager = case["case_manager_id"]
    assert manager in {"SW-NS-LI", "SW-NS-CHEN"}

    with system.client("casework", CENTER_STAFF) as casework:
        recorded = casework.post(f"/v1/cases/{case['case_id']}/visits", json=visit(risk_level=3))
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["classification"] == "unstable"
    next_due = centers_today() + timedelta(weeks=2)
    assert recorded.json()["next_follow_up_due"] == next_due.isoformat()

    def about(recipient: str) -> list[str] | None:
        kinds = [
            i["about_event_type"] for i in inbox(system, recipient) if i["patient_id"] == patient_id
        ]
        return kinds or None

    assert eventually(lambda: about("center:CHC-NS-NANTOU")) == ["PatientRouted"]
    assert sorted(eventually(lambda: (k := about(f"staff:{manager}")) and len(k) == 2 and k)) == [
        "CaseManagerAssigned",
        "VisitCompleted",
    ]
    # no doctor in the care team yet: the center's community doctors are told instead
    assert eventually(lambda: about("role:CHC-NS-NANTOU/community_doctor")) == ["VisitCompleted"]
    # the referral the visit asked for reaches the diagnosing hospital's clinicians
    assert eventually(lambda: about("role:H-SZ-KANGNING/clinician")) == ["ReferralIssued"]

    delivered = eventually(
        lambda: (
            d := [m for m in system.messages("notifications") if str(m.patient_id) == patient_id]
        )
        and len(d) == 5
        and d
    )
    assert [m.sequence for m in delivered] == [1, 2, 3, 4, 5]
    assert {m.data.channel for m in delivered} == {"inbox"}  # nobody has subscribed a channel
    casework_events = [m for m in system.messages("casework") if str(m.patient_id) == patient_id]
    assert [m.event_type for m in casework_events] == [
        "CaseOpened",
        "CaseManagerAssigned",
        "CareTeamMemberJoined",
        "VisitCompleted",
        "ReferralRequested",  # risk 3: the rules refer the patient to a hospital
    ]
    # one correlation id follows the diagnosis from the hospital to the case manager
    diagnosed = next(m for m in system.messages("intake") if str(m.patient_id) == patient_id)
    assert {m.correlation_id for m in casework_events[:2]} == {diagnosed.correlation_id}


def test_an_unroutable_region_waits_for_manual_routing_then_completes(system: System) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial=2, region_code="440399001")

    with system.client("routing", OPERATOR) as routing:
        pending = eventually(
            lambda: [
                r for r in routing.get("/v1/routing-queue").json() if r["patient_id"] == patient_id
            ]
        )
        assert pending[0]["pending_reason"] == "no catchment holds region 440399001"
        # the queue (a projection) and the topic (the relay) are updated independently
        assert eventually(
            lambda: any(
                m.event_type == "RoutingPending"
                for m in system.messages("routing")
                if str(m.patient_id) == patient_id
            )
        )

        manual = routing.post(
            f"/v1/routes/{patient_id}/manual",
            json={"center_id": "CHC-NS-SHEKOU", "operator_id": OPERATOR},
        )
        assert manual.status_code == 202, manual.text
        again = routing.post(
            f"/v1/routes/{patient_id}/manual",
            json={"center_id": "CHC-NS-XILI", "operator_id": OPERATOR},
        )
        assert again.status_code == 409

    case = eventually(lambda: case_of(system, patient_id, "SW-NS-WANG"))
    assert case["center_id"] == "CHC-NS-SHEKOU"
    assert eventually(
        lambda: [
            i
            for i in inbox(system, "role:network/routing_operator")
            if i["patient_id"] == patient_id
        ]
    )


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        (lambda d: d.update(icd10_code="F32.1"), 422, "not one of the six severe mental disorders"),
        (lambda d: d.pop("consent"), 422, "consent"),
        (lambda d: d.update(risk_level=7), 422, "risk_level"),
        (lambda d: d.update(hospital_id="H-SZ-CLINIC-9"), 403, "not your organisation"),
    ],
)
def test_an_invalid_diagnosis_is_refused_with_the_reason(
    system: System, change: Any, status: int, reason: str
) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = intake.post("/v1/patients", json=registration(serial=3 + len(reason))).json()[
            "patient_id"
        ]
        body = diagnosis()
        change(body)
        response = intake.post(f"/v1/patients/{patient_id}/diagnoses", json=body)
    assert response.status_code == status
    assert reason in response.text


def test_a_malformed_national_id_is_refused_without_echoing_it(system: System) -> None:
    body = registration(serial=40)
    body["national_id"] = "440305199001150013"  # wrong check digit
    with system.client("intake", CLINICIAN) as intake:
        response = intake.post("/v1/patients", json=body)
    assert response.status_code == 422
    assert "malformed national ID" in response.text
    assert "440305199001150013" not in response.text


def test_replaying_every_topic_changes_no_projection_and_notifies_nobody_twice(
    system: System,
) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial=50)
    eventually(lambda: case_of(system, patient_id))
    consumers = {  # every service, rewound on every topic it consumes
        "intake": ["routing"],
        "routing": ["intake", "casework"],
        "casework": ["routing", "intake"],
        "notifications": ["intake", "routing", "casework"],
    }
    for service, producers in consumers.items():
        system.wait_until_consumed(service, producers)

    def snapshot() -> tuple[Any, ...]:
        with (
            system.client("casework", CENTER_STAFF) as casework,
            system.client("routing", OPERATOR) as routing,
            system.client("intake", CLINICIAN) as intake,
        ):
            return (
                casework.get("/v1/cases").json(),
                routing.get("/v1/routing-queue").json(),
                intake.get("/v1/referrals", params={"hospital_id": "H-SZ-KANGNING"}).json(),
                inbox(system, "center:CHC-NS-NANTOU"),
                Counter(
                    m.event_type
                    for p in ("intake", "routing", "casework", "notifications")
                    for m in system.messages(p)
                ),
            )

    def settled() -> tuple[Any, ...]:
        """A snapshot that no longer changes: relays publish after their consumers commit."""
        previous = [snapshot()]

        def unchanged() -> tuple[Any, ...] | None:
            time.sleep(1)
            current = snapshot()
            stable = current == previous[0]
            previous[0] = current
            return current if stable else None

        return eventually(unchanged, timeout=60)

    before = settled()
    for service, producers in consumers.items():
        system.processes[service].stop()
        system.rewind(service, producers)
        system.processes[service].start()
    for service, producers in consumers.items():
        system.processes[service].wait_ready()
        system.wait_until_consumed(service, producers)

    assert settled() == before


def test_a_service_killed_in_a_burst_of_200_diagnoses_assigns_every_patient_exactly_once(
    system: System,
) -> None:
    casework = system.processes["casework"]
    patients = []
    with system.client("intake", CLINICIAN) as intake:
        for serial in range(1000, 1200):
            patients.append(diagnose_new_patient(intake, serial))
            if serial == 1060:
                casework.kill()
            if serial == 1140:
                casework.start()
    casework.wait_ready()
    system.wait_until_consumed("casework", ["routing"], timeout=120)

    def assignments() -> Counter[str] | None:
        wanted = set(patients)
        counted = Counter(
            str(m.patient_id)
            for m in system.messages("casework")
            if m.event_type == "CaseManagerAssigned" and str(m.patient_id) in wanted
        )
        return counted if len(counted) == len(wanted) else None

    counted = eventually(assignments, timeout=120)
    assert set(counted.values()) == {1}, "some patient was assigned more than once"


def refused_by(system: System, service: str, topic: str) -> float:
    """How many refusals of the topic's messages the service's readers have counted."""
    text = httpx.get(f"{system.processes[service].url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "carenet_messages_refused_total" and sample.labels["topic"] == topic
    )


def test_a_forged_diagnosis_is_dead_lettered_once_by_each_service_and_acted_on_by_none(
    system: System,
) -> None:
    """Unsigned, on intake's topic, for a patient intake never registered: each service that
    reads intake's topic refuses it with every reader (routing, casework, notifications: the
    inbound consumer and the access graph; audit: the history index and the access graph;
    intake: its access graph) and dead-letters it once."""
    topic, patient = system.topic("intake"), str(uuid4())
    sample = Path(__file__).parents[2] / "contracts/tests/messages/DiagnosisRecorded.v1.json"
    forged = {**json.loads(sample.read_text()), "patient_id": patient, "event_id": str(uuid4())}
    readers = {"intake": 1, "routing": 2, "casework": 2, "notifications": 2, "audit": 2}
    before = {service: refused_by(system, service, topic) for service in readers}

    async def send() -> tuple[int, int]:
        producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap, acks="all")
        await producer.start()
        try:
            sent = await producer.send_and_wait(
                topic, json.dumps(forged).encode(), key=patient.encode()
            )
            return sent.partition, sent.offset
        finally:
            await producer.stop()

    partition, offset = run_sync(send())

    def judged() -> bool | None:
        return (
            all(
                refused_by(system, service, topic) - before[service] == count
                for service, count in readers.items()
            )
            or None
        )

    eventually(judged)  # every reader has judged it ...
    for service in ("routing", "casework", "notifications"):  # ... and the inbound ones moved on
        system.wait_until_consumed(service, ["intake"])

    def letters() -> list[str] | None:
        found = [
            header(list(r.headers), "carenet_dlq_consumer") or ""
            for r in run_sync(read_records(system.bootstrap, system.namespace + DEAD_LETTER_TOPIC))
            if header(list(r.headers), "carenet_dlq_topic") == topic
            and header(list(r.headers), "carenet_dlq_partition") == str(partition)
            and header(list(r.headers), "carenet_dlq_offset") == str(offset)
        ]
        return found if len(found) >= len(readers) else None

    consumers = [c.removeprefix(system.namespace) for c in eventually(letters)]
    assert sorted(consumers) == [
        "carenet-audit-history",
        "carenet-casework",
        "carenet-intake-access",
        "carenet-notifications",
        "carenet-routing",
    ]
    for producer in ("routing", "casework", "notifications"):
        assert not [m for m in system.messages(producer) if str(m.patient_id) == patient]
