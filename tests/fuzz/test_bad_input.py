"""Bad input a fuzzer does not send: bodies too large, lying lengths, broken JSON, odd headers.

Each refusal is a 4xx with a short reason that never repeats the input; and the regressions of
what the schemathesis run found, one test each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.pathway import registration

from .harness import FuzzTarget

LIMIT = 64 * 1024
CANARY = "Zhang Canary-7d1e"
PATIENT = "/v1/patients"


def json_headers(target: FuzzTarget, content_type: str = "application/json") -> dict[str, str]:
    return {**target.headers, "Content-Type": content_type}


def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(
    intake_target: FuzzTarget,
) -> None:
    body = json.dumps({**registration(1), "address": "x" * LIMIT}).encode()
    response = intake_target.client.post(PATIENT, content=body, headers=json_headers(intake_target))
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"the request body is larger than the limit of {LIMIT} bytes"
    }


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(
    intake_target: FuzzTarget,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 5_000
        yield b'"}'

    response = intake_target.client.post(
        PATIENT, content=chunks(), headers=json_headers(intake_target)
    )
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


async def test_a_body_longer_than_its_content_length_is_cut_off_at_the_limit(
    intake_target: FuzzTarget,
) -> None:
    """Raw ASGI, since an HTTP client will not send a length that lies."""
    chunks = [b"[" + b"1," * 10_000 for _ in range(5)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in json_headers(intake_target).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATIENT,
        "raw_path": PATIENT.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [*headers, (b"content-length", b"100")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
    }
    await intake_target.client.app(scope, receive, send)
    assert sent[0]["status"] == 413
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body == {"detail": f"the request body is larger than the limit of {LIMIT} bytes"}


def test_a_content_length_that_is_not_a_number_is_refused(intake_target: FuzzTarget) -> None:
    response = intake_target.client.post(
        PATIENT,
        content=b"{}",
        headers={**json_headers(intake_target), "Content-Length": "lots"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"[" * 30_000, "application/json", id="deeply nested arrays"),
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json", id="objects"),
        pytest.param(b'{"name": "\xff\xfe\xfd"}', "application/json", id="invalid UTF-8"),
        pytest.param(b'{"name": ', "application/json", id="truncated JSON"),
        pytest.param(b"name=x", "application/x-www-form-urlencoded", id="a form"),
        pytest.param(b'{"name": "x"}', "text/plain", id="JSON as text/plain"),
        pytest.param(b"\x00\x01\x02", "application/octet-stream", id="bytes"),
    ],
)
def test_malformed_bodies_get_a_4xx(
    intake_target: FuzzTarget, body: bytes, content_type: str
) -> None:
    response = intake_target.client.post(
        PATIENT, content=body, headers=json_headers(intake_target, content_type)
    )
    assert 400 <= response.status_code < 500, response.text
    assert "detail" in response.json()


def test_a_refused_registration_does_not_echo_the_personal_data(
    intake_target: FuzzTarget,
) -> None:
    bad = {
        **registration(2),
        "name": CANARY * 10,  # too long
        "national_id": f"{CANARY}-440305",
        "phone": f"{CANARY}-138",
        "address": "",
        "guardian": {"name": CANARY, "relationship": "", "phone": CANARY},
    }
    response = intake_target.client.post(PATIENT, json=bad, headers=intake_target.headers)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert {tuple(p["loc"])[-1] for p in problems} >= {"name", "national_id", "phone", "address"}
    assert "Canary" not in response.text
    assert "440305" not in response.text


def test_an_empty_correlation_id_is_refused(intake_target: FuzzTarget) -> None:
    """Regression (schemathesis): an empty `X-Correlation-ID` was taken as none given."""
    response = intake_target.client.get("/healthz", headers={"X-Correlation-ID": ""})
    assert response.status_code == 400


def test_405_names_every_method_of_the_path(routing_target: FuzzTarget) -> None:
    """Regression (schemathesis): `Allow` named one method of a path that has GET and POST."""
    response = routing_target.client.request("OPTIONS", "/v1/directory/centers")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_every_operation_declares_the_errors_it_can_give(intake_target: FuzzTarget) -> None:
    document = intake_target.client.get("/openapi.json").json()
    register = document["paths"]["/v1/patients"]["post"]
    assert set(register["responses"]) >= {"201", "400", "404", "409", "413", "422", "503"}
    invalid = register["responses"]["422"]["content"]["application/json"]["schema"]
    assert invalid == {"$ref": "#/components/schemas/InvalidRequest"}
    assert any(p["name"] == "X-Correlation-ID" for p in register["parameters"])
    assert set(document["paths"]["/healthz"]["get"]["responses"]) == {"200", "400"}


@pytest.mark.parametrize("certified", [0, 1, "true", None])
def test_certification_is_a_json_boolean(routing_target: FuzzTarget, certified: object) -> None:
    """Regression (schemathesis): `"certified": 0` was read as false and applied."""
    response = routing_target.client.put(
        "/v1/directory/hospitals/H-SZ-KANGNING/certification",
        json={"certified": certified, "reason": "annual review", "operator_id": "OP-1"},
        headers=routing_target.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "certified"]


def test_as_of_is_a_date_time_string_not_epoch_seconds(audit_target: FuzzTarget) -> None:
    """Regression (schemathesis): `"as_of": 0` was read as 1970-01-01 and answered."""
    query = {
        "patient_id": "8b0ff88d-d7b8-4362-bedb-3069f43ef619",
        "purpose": "compliance-audit",
        "justification": "CASE-1",
    }
    client, headers = audit_target.client, audit_target.headers
    refused = client.post("/v1/patient-histories", json={**query, "as_of": 0}, headers=headers)
    assert refused.status_code == 422
    as_of = "2026-11-02T00:00:00Z"
    answered = client.post("/v1/patient-histories", json={**query, "as_of": as_of}, headers=headers)
    assert answered.status_code == 200, answered.text


def test_the_webhook_url_is_documented_as_http(notifications_target: FuzzTarget) -> None:
    """Regression (schemathesis): the document allowed any URI, the API only http(s)."""
    document = notifications_target.client.get("/openapi.json").json()
    url = document["components"]["schemas"]["SubscriptionIn"]["properties"]["url"]
    assert url["pattern"] == "^[Hh][Tt][Tt][Pp][Ss]?://"
    response = notifications_target.client.post(
        "/v1/subscriptions",
        json={"recipient": "staff:SW-NS-LI", "channel": "webhook", "url": "mailto:x@y.example"},
        headers=notifications_target.headers,
    )
    assert response.status_code == 422
