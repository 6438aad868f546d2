"""Other systems read what routing's relay really published, with ordinary tools.

One routing service on the real broker routes a patient and escalates a declined referral
(`ReferralEscalated` v2); then the official CloudEvents SDK reads those Kafka records in binary
content mode, and the example subscriber (`contracts/examples/subscriber.py`, aiokafka and
the published JSON Schemas only) reads them as a separate process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from cloudevents.v1.kafka import KafkaMessage as LegacyKafkaMessage
from cloudevents.v1.kafka import from_binary as legacy_from_binary

from carenet_contracts import parse_message
from carenet_devtools.kafka import run_sync
from carenet_devtools.topics import read_records
from carenet_kit.wire import Headers, kafka_record

from ..e2e.conftest import eventually
from .test_routing_service import referral
from .test_services import REPO, Harness, start_service

SQLITE = {"CARENET_PERSISTENCE": "sqlite"}
SUBSCRIBER = REPO / "contracts" / "examples" / "subscriber.py"
SCHEMAS = REPO / "contracts" / "schemas"

Record = ConsumerRecord[bytes, bytes]


@pytest.fixture(scope="module")
def routing(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    yield from start_service("routing", kafka_bootstrap, SQLITE, tmp_path_factory.mktemp("r"))


@pytest.fixture(scope="module")
def published(routing: Harness) -> list[Record]:
    """Routing's records about one patient: routed, referral issued, referral escalated."""
    patient_id, referral_id = referral(routing)
    routing.send(
        "intake", "ReferralDeclined", patient_id, referral_id=str(referral_id), reason="no bed"
    )

    def three() -> list[Record] | None:
        records = run_sync(read_records(routing.bootstrap, routing.topic("routing")))
        mine = [r for r in records if r.key == patient_id.encode()]
        return mine if len(mine) == 3 else None

    return eventually(three)


def test_the_cloudevents_sdk_reads_every_attribute_of_what_the_relay_published(
    published: list[Record],
) -> None:
    for record in published:
        envelope = parse_message(record.value)
        raw = json.loads(record.value)
        event = from_binary_event(KafkaMessage(dict(record.headers), record.key, record.value))
        assert event.get_specversion() == "1.0"
        assert event.get_id() == str(envelope.event_id)
        assert event.get_source() == f"urn:carenet:{envelope.producer}"
        version = raw["schema_version"]
        assert event.get_type() == f"org.carenet.{envelope.event_type}.v{version}"
        assert event.get_subject() == str(envelope.patient_id)
        assert event.get_time() == envelope.occurred_at
        assert event.get_dataschema() == f"urn:carenet:contract:{envelope.event_type}:v{version}"
        assert event.get_datacontenttype() == "application/json"
        assert event.get_extension("sequence") == str(envelope.sequence)
        assert event.get_extension("correlationid") == str(envelope.correlation_id)
        assert event.get_extension("partitionkey") == str(envelope.patient_id)
        assert event.get_data() == raw
        schema = json.loads((SCHEMAS / f"{envelope.event_type}.v{version}.json").read_text())
        assert schema["$id"] == event.get_dataschema()
    types = [json.loads(r.value)["event_type"] for r in published]
    assert types == ["PatientRouted", "ReferralIssued", "ReferralEscalated"]
    assert json.loads(published[-1].value)["schema_version"] == 2


def test_the_sdks_legacy_kafka_binding_reads_them_too(published: list[Record]) -> None:
    for record in published:
        message = LegacyKafkaMessage(dict(record.headers), record.key, record.value)
        event = legacy_from_binary(message)
        assert event["id"] == json.loads(record.value)["event_id"]
        assert event["subject"] == record.key.decode()
        assert event.data == json.loads(record.value)


def run_subscriber(bootstrap: str, topic: str, max_events: int) -> list[dict[str, Any]]:
    command = [sys.executable, str(SUBSCRIBER), "--bootstrap", bootstrap, "--topic", topic]
    command += ["--schemas", str(SCHEMAS), "--group", f"example-{uuid4().hex[:8]}"]
    command += ["--max-events", str(max_events)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_example_subscriber_checks_each_event_against_its_published_schema(
    routing: Harness, published: list[Record]
) -> None:
    forged = json.loads(published[0].value)
    forged["data"]["risk_level"] = 7  # the schema allows 0-5
    forged["event_id"] = str(uuid4())
    value = json.dumps(forged)
    key, headers = kafka_record(value, 1, None)
    topic = routing.topic("routing")
    run_sync(produce(routing.bootstrap, topic, key, value.encode(), headers))
    everything = run_sync(read_records(routing.bootstrap, topic))

    lines = run_subscriber(routing.bootstrap, topic, len(everything))

    accepted = {line["event_id"]: line for line in lines if line["accepted"]}
    for record in published:
        event = json.loads(record.value)
        line = accepted[event["event_id"]]
        assert (line["event_type"], line["schema_version"], line["data"]) == (
            event["event_type"],
            event["schema_version"],
            event["data"],
        )
    refused = [line for line in lines if not line["accepted"]]
    assert [r["reason"] for r in refused] == [
        "$.data.risk_level: 7 is greater than the maximum of 5"
    ]


async def produce(bootstrap: str, topic: str, key: bytes, value: bytes, headers: Headers) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
