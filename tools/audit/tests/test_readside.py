"""The audit tool reads a patient's history from the read side as the same `Record`s as topics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord
from fastapi.testclient import TestClient

from bench.synthetic import SyntheticNetwork
from carenet_audit.application import AuditApplication
from carenet_audit.config import Settings
from carenet_audit.main import bootstrap
from carenet_audit_tool.readside import ReadSideError, fetch_history
from carenet_contracts import parse_message
from carenet_devtools.issuer import DevIssuer
from carenet_kit.admission import StreamTracking
from carenet_kit.batches import Delivered, PartitionBatch


@pytest.fixture
def service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, AuditApplication, DevIssuer]]:
    issuer = DevIssuer(tmp_path / "keys")
    for name, value in issuer.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CARENET_DATA_DIR", str(tmp_path / "data"))
    running = bootstrap(Settings())
    assert isinstance(running.application, AuditApplication)
    yield TestClient(running.http_api()), running.application, issuer
    running.application.close()


def test_the_read_side_gives_the_records_that_lay_on_the_broker(
    service: tuple[TestClient, AuditApplication, DevIssuer],
) -> None:
    client, app, issuer = service
    network, patient = SyntheticNetwork(), uuid4()
    sent = list(network.patient(patient, 2))
    for offset, m in enumerate(sent):
        topic = f"carenet.{m.producer}.v1"
        record = ConsumerRecord(
            topic, 1, offset, 0, 0, m.key, m.value, None, 0, 0, tuple(m.headers)
        )
        delivered = Delivered(record, parse_message(m.value))
        app.index.write([PartitionBatch([delivered], StreamTracking(f"{topic}:1", offset))])
    token = issuer.token("auditor-wang", "NHC-AUDIT", "auditor")

    records = fetch_history("", token, patient, "compliance-audit", "AUD-1", client=client)

    assert sorted(r.value for r in records) == sorted(m.value for m in sent)
    assert {r.key for r in records} == {str(patient).encode()}
    for r in records:
        producer = r.topic.split(".")[1]
        assert network.trusted.problem_with(producer, r.value, r.signature) is None


def test_a_refusal_is_an_error_with_its_reason(
    service: tuple[TestClient, AuditApplication, DevIssuer],
) -> None:
    client, _, issuer = service
    token = issuer.token("sw-li", "CHC-NS-NANTOU", "social_worker")
    with pytest.raises(ReadSideError, match="403"):
        fetch_history("", token, uuid4(), "complaint", "C-9", client=client)
