"""One diagnosis is one trace: every message it causes, in every service, and every service's log.

The clinician's request carries a W3C `traceparent`; intake commits the diagnosis in that trace,
routing, casework and notifications each handle what they consume in a child span, so each
message they publish carries the same trace id in its `traceparent` header.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord

from carenet_contracts import parse_message
from carenet_devtools.kafka import run_sync
from carenet_devtools.topics import read_records
from carenet_kit.wire import header

from .conftest import System, eventually
from .pathway import CLINICIAN, diagnosis, registration

pytestmark = pytest.mark.e2e

SERIAL = 6100
FOLLOWED = ("intake", "routing", "casework", "notifications")
CAUSED = {
    "DiagnosisRecorded",
    "PatientRouted",
    "CaseOpened",
    "CaseManagerAssigned",
    "NotificationDelivered",
}


def caused_by(
    system: System, correlation_id: str
) -> list[tuple[str, ConsumerRecord[bytes, bytes]]]:
    """(event type, record) of every message the request caused, on every producer's topic."""
    found = []
    for producer in FOLLOWED:
        for record in run_sync(read_records(system.bootstrap, system.topic(producer))):
            envelope = parse_message(record.value or b"")
            if str(envelope.correlation_id) == correlation_id:
                found.append((envelope.event_type, record))
    return found


def log_lines_of(system: System, service: str) -> list[dict[str, Any]]:
    text = system.processes[service].log_path.read_text(errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_diagnosis_is_followed_by_one_trace_id_across_the_services(system: System) -> None:
    trace_id = secrets.token_hex(16)
    correlation_id = str(uuid4())
    with system.client("intake", CLINICIAN) as intake:
        registered = intake.post("/v1/patients", json=registration(SERIAL))
        assert registered.status_code == 201, registered.text
        patient_id = registered.json()["patient_id"]
        diagnosed = intake.post(
            f"/v1/patients/{patient_id}/diagnoses",
            json=diagnosis(),
            headers={
                "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
                "X-Correlation-ID": correlation_id,
            },
        )
        assert diagnosed.status_code == 201, diagnosed.text

    def all_caused() -> list[tuple[str, ConsumerRecord[bytes, bytes]]] | None:
        found = caused_by(system, correlation_id)
        return found if {event_type for event_type, _ in found} >= CAUSED else None

    for event_type, record in eventually(all_caused, timeout=90):
        traceparent = header(list(record.headers), "traceparent")
        assert traceparent is not None, f"{event_type} has no traceparent"
        assert traceparent.split("-")[1] == trace_id, f"{event_type} is in another trace"
    for service in FOLLOWED:
        assert any(line.get("trace_id") == trace_id for line in log_lines_of(system, service)), (
            f"no line of {service}'s log has the trace id"
        )
