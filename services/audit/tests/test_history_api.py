"""The history API: auditors only, every request recorded, tokens checked (no broker needed).

The store is a real SQLite file; the index is filled the way the batch consumer fills it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import ConsumerRecord
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey

from bench.synthetic import SyntheticNetwork
from carenet_audit.application import AuditApplication
from carenet_audit.config import Settings
from carenet_audit.main import bootstrap
from carenet_contracts import parse_message
from carenet_devtools.issuer import DevIssuer
from carenet_kit.admission import StreamTracking
from carenet_kit.batches import Delivered, PartitionBatch
from carenet_kit.outbox import PublishedStream

AUDITOR = {"user": "auditor-wang", "organisation": "NHC-AUDIT", "role": "auditor"}
CASE_MANAGER = {"user": "sw-li", "organisation": "CHC-NS-NANTOU", "role": "social_worker"}
QUERY = {"purpose": "compliance-audit", "justification": "AUD-2026-017"}


class ReadSide:
    def __init__(self, client: TestClient, app: AuditApplication, issuer: DevIssuer) -> None:
        self.client = client
        self.app = app
        self.issuer = issuer

    def ask(self, patient_id: UUID, token: str | None, **extra: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"patient_id": str(patient_id), **QUERY, **extra}
        return self.client.post("/v1/patient-histories", json=body, headers=headers)

    def token(self, who: dict[str, str], minutes: float = 5) -> str:
        return self.issuer.token(who["user"], who["organisation"], who["role"], minutes)

    def reads(self) -> list[PublishedStream.Appended]:
        """What the outbox holds for the relay to publish."""
        notifications = self.app.process_recorder.select_notifications(0, 1000)
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        return [e for e in events if isinstance(e, PublishedStream.Appended)]


@pytest.fixture
def read_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReadSide]:
    issuer = DevIssuer(tmp_path / "keys")
    for name, value in issuer.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CARENET_DATA_DIR", str(tmp_path / "data"))
    service = bootstrap(Settings())
    api = service.http_api()
    client = TestClient(api)  # not entered: no lifespan, so no relay or consumer (no broker)
    assert isinstance(service.application, AuditApplication)
    yield ReadSide(client, service.application, issuer)
    service.application.close()


def loaded(app: AuditApplication, patient_id: UUID) -> list[bytes]:
    """One patient's synthetic messages, written to the index as one batch per producer."""
    values = []
    for offset, message in enumerate(SyntheticNetwork().patient(patient_id, 2)):
        record = ConsumerRecord(
            f"carenet.{message.producer}.v1", 0, offset, 0, 0, message.key,
            message.value, None, 0, 0, tuple(message.headers),
        )  # fmt: skip
        delivered = Delivered(record, parse_message(message.value))
        tracking = StreamTracking(f"carenet.{message.producer}.v1:0", offset)
        app.index.write([PartitionBatch([delivered], tracking)])
        values.append(message.value)
    return values


def test_an_auditor_gets_the_patient_history_verbatim_and_the_read_is_recorded(
    read_side: ReadSide,
) -> None:
    patient = uuid4()
    values = loaded(read_side.app, patient)
    loaded(read_side.app, uuid4())  # someone else

    answer = read_side.ask(patient, read_side.token(AUDITOR))

    assert answer.status_code == 200
    messages = answer.json()["messages"]
    assert sorted(m["value"].encode() for m in messages) == sorted(values)
    assert all(m["key_id"] and m["signature"] for m in messages)
    [read] = read_side.reads()
    recorded = json.loads(read.message)
    assert recorded["patient_id"] == str(patient)
    assert recorded["data"]["reader_id"] == "auditor-wang"
    assert recorded["data"]["outcome"] == "granted"
    assert recorded["data"]["events_returned"] == len(values)
    assert read.signed is not None


def test_a_case_manager_is_refused_and_the_refusal_is_recorded(read_side: ReadSide) -> None:
    patient = uuid4()
    loaded(read_side.app, patient)

    answer = read_side.ask(patient, read_side.token(CASE_MANAGER))

    assert answer.status_code == 403
    assert "messages" not in answer.json()
    [read] = read_side.reads()
    data = json.loads(read.message)["data"]
    assert (data["reader_role"], data["outcome"], data["events_returned"]) == (
        "social_worker",
        "denied",
        0,
    )


def test_as_of_leaves_out_what_was_recorded_later(read_side: ReadSide) -> None:
    patient = uuid4()
    loaded(read_side.app, patient)
    everything = read_side.ask(patient, read_side.token(AUDITOR)).json()["messages"]
    recorded = sorted(m["recorded_at"] for m in everything)
    middle = recorded[len(recorded) // 2]

    earlier = read_side.ask(patient, read_side.token(AUDITOR), as_of=middle).json()["messages"]

    assert len(earlier) == len([r for r in recorded if r <= middle]) < len(everything)


def _forged(read_side: ReadSide, **claims: Any) -> str:
    """A token like the issuer's, with changed claims, signed by the issuer's own key."""
    now = int(time.time())
    base = {"iss": read_side.issuer.issuer, "aud": "carenet", "sub": "auditor-wang"}
    body = {**base, "org": "NHC-AUDIT", "role": "auditor", "iat": now, "exp": now + 300}
    key = read_side.issuer._key
    claims = {k: v for k, v in {**body, **claims}.items() if v is not None}
    return jwt.encode({"alg": "Ed25519", "kid": key.kid}, claims, key, algorithms=["Ed25519"])


def _unsigned(claims: dict[str, Any]) -> str:
    import base64  # noqa: PLC0415

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda rs: None, id="missing"),
        pytest.param(lambda rs: rs.token(AUDITOR, minutes=-5), id="expired"),
        pytest.param(lambda rs: _forged(rs, aud="another-platform"), id="wrong-audience"),
        pytest.param(lambda rs: _forged(rs, iss="https://elsewhere.example"), id="wrong-issuer"),
        pytest.param(
            lambda rs: jwt.encode(
                {"alg": "Ed25519", "kid": rs.issuer._key.kid},
                {"iss": rs.issuer.issuer, "aud": "carenet", "sub": "x", "org": "o"}
                | {"role": "auditor", "exp": int(time.time()) + 60},
                OKPKey.generate_key("Ed25519"),
                algorithms=["Ed25519"],
            ),
            id="forged-signature",
        ),
        pytest.param(
            lambda rs: _unsigned(
                {"iss": rs.issuer.issuer, "aud": "carenet", "sub": "auditor-wang"}
                | {"org": "NHC-AUDIT", "role": "auditor", "exp": int(time.time()) + 60}
            ),
            id="alg-none",
        ),
        pytest.param(lambda rs: _forged(rs, role=None), id="no-role"),
        pytest.param(lambda rs: "not.a.token", id="garbage"),
    ],
)
def test_a_request_without_an_acceptable_token_is_401_and_reads_nothing(
    read_side: ReadSide, make_token: Any
) -> None:
    patient = uuid4()
    loaded(read_side.app, patient)

    answer = read_side.ask(patient, make_token(read_side))

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "messages" not in answer.json()
    assert read_side.reads() == []


def test_the_patient_id_and_purpose_are_checked_before_anything_is_read(
    read_side: ReadSide,
) -> None:
    token = read_side.token(AUDITOR)
    headers = {"Authorization": f"Bearer {token}"}
    for body in (
        {"patient_id": "12345", **QUERY},
        {"patient_id": str(uuid4()), "purpose": "curiosity", "justification": "x"},
        {"patient_id": str(uuid4()), "purpose": "complaint", "justification": ""},
    ):
        answer = read_side.client.post("/v1/patient-histories", json=body, headers=headers)
        assert answer.status_code == 422
    assert read_side.reads() == []
