"""The directory's HTTP API: every change answers with the new version, or a 4xx with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carenet_access.relations import PatientRelations
from carenet_devtools.callers import Callers
from carenet_kit.http import install_error_handlers
from carenet_kit.outbox import Cause
from carenet_kit.reference_data import ReferenceDirectory
from carenet_routing import api
from carenet_routing.application import RoutingApplication
from carenet_routing.commands import RouteDiagnosedPatient
from carenet_routing.outbox import to_integration_event
from carenet_routing.projection import RoutingBoard

REFERENCE = Path(__file__).parents[3] / "reference" / "demo-directory.yaml"
OP = {"operator_id": "OP-1"}


def diagnosis_of(patient_id: UUID, region_code: str) -> RouteDiagnosedPatient:
    return RouteDiagnosedPatient(
        patient_id=patient_id,
        diagnosing_hospital_id="H-SZ-NANSHAN",
        category="schizophrenia",
        risk_level=1,
        region_code=region_code,
        recorded_at=datetime.now(UTC),
    )


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    application = RoutingApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, to_integration_event
    )
    application.load_directory(ReferenceDirectory.load(REFERENCE))
    app = FastAPI()
    app.state.application = application
    app.state.projection = RoutingBoard(application)
    install_error_handlers(app)
    for router in api.routers:
        app.include_router(router)
    callers = Callers(tmp_path / "keys")
    callers.wire(app, application, PatientRelations())
    with TestClient(app, headers=callers.headers("OP-1", "network", "operator")) as client:
        yield client


def test_operators_change_the_directory_and_each_change_is_a_new_version(
    http: TestClient,
) -> None:
    version = http.get("/v1/directory").json()["version"]
    changes = [
        (
            "/v1/directory/hospitals",
            {"hospital_id": "H-NEW", "name": "New", "district": "440305", "certified": False},
        ),
        (
            "/v1/directory/centers",
            {"center_id": "CHC-NEW", "name": "New", "catchment": ["440306001"]},
        ),
        ("/v1/directory/centers/CHC-NEW/staff", {"staff_id": "SW-NEW", "role": "social_worker"}),
        ("/v1/directory/centers/CHC-NEW/staff", {"staff_id": "PL-NEW", "role": "police_liaison"}),
        ("/v1/directory/centers/CHC-NEW/staff/PL-NEW/leave", {"reason": "reassigned"}),
        (
            "/v1/directory/catchment-handovers",
            {
                "region_code": "440305009",
                "from_center_id": "CHC-NS-XILI",
                "to_center_id": "CHC-NEW",
                "reason": "new center",
            },
        ),
        ("/v1/directory/centers/CHC-NEW/catchment/440306001/remove", {"reason": "wrong district"}),
    ]
    for path, body in changes:
        response = http.post(path, json={**body, **OP})
        assert response.status_code in {200, 201}, (path, response.text)
        version += 1
        assert response.json() == {"directory_version": version}
    certified = http.put(
        "/v1/directory/hospitals/H-NEW/certification",
        json={"certified": True, "reason": "inspected", **OP},
    )
    assert certified.json() == {"directory_version": version + 1}

    center = http.get("/v1/directory/centers/CHC-NEW").json()
    assert center["catchment"] == ["440305009"]
    assert center["staff"] == [{"staff_id": "SW-NEW", "role": "social_worker"}]
    assert center["directory_version"] == version + 1
    assert http.get("/v1/directory/hospitals/H-NEW").json()["certified"] is True


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        (
            "/v1/directory/centers/CHC-NOPE/catchment",
            {"region_code": "440399001"},
            404,
            "unknown community health center CHC-NOPE",
        ),
        (
            "/v1/directory/centers/CHC-NS-XILI/catchment",
            {"region_code": "4403"},
            422,
            "region_code",
        ),
        (
            "/v1/directory/centers/CHC-NS-XILI/catchment",
            {"region_code": "440305001"},
            409,
            "CHC-NS-NANTOU",
        ),
        (
            "/v1/directory/centers",
            {"center_id": "CHC-X", "name": "X", "catchment": ["440305"]},
            409,
            "overlaps",
        ),
        (
            "/v1/directory/centers/CHC-NS-XILI/staff",
            {"staff_id": "SW-NS-LI", "role": "social_worker"},
            409,
            "already on the staff of CHC-NS-NANTOU",
        ),
        (
            "/v1/directory/centers/CHC-NS-XILI/staff",
            {"staff_id": "SW-9", "role": "janitor"},
            422,
            "role",
        ),
        (
            "/v1/directory/centers/CHC-NS-XILI/staff/SW-NS-LI/leave",
            {"reason": "r"},
            404,
            "not on the staff",
        ),
        (
            "/v1/directory/hospitals",
            {"hospital_id": "H-SZ-KANGNING", "name": "K", "district": "440307", "certified": True},
            409,
            "already",
        ),
        (
            "/v1/routes/3f1c3a53-8b4e-4c55-9f3e-0c7a3c1b9a11/manual",
            {"center_id": "CHC-NS-XILI"},
            404,
            "no route",
        ),
    ],
)
def test_a_refused_change_says_why(
    http: TestClient, path: str, body: dict[str, str], status: int, reason: str
) -> None:
    response = http.post(path, json={**body, **OP})
    assert response.status_code == status
    assert reason in response.text


def test_a_move_dated_in_the_future_is_a_422_naming_the_field_not_the_date(
    http: TestClient,
) -> None:
    routing: RoutingApplication = http.app.state.application  # type: ignore[attr-defined]
    patient_id = uuid4()
    routing.route_diagnosed_patient(diagnosis_of(patient_id, "440305001"), Cause.request())
    in_a_week = (date.today() + timedelta(days=7)).isoformat()

    moved = http.post(
        f"/v1/routes/{patient_id}/residence",
        json={"region_code": "440305005", "moved_on": in_a_week},
    )

    assert moved.status_code == 422, moved.text
    [refused] = moved.json()["detail"]
    assert refused["loc"] == ["body", "moved_on"]
    assert refused["type"] == "implausible.in_future"
    assert in_a_week not in moved.text
