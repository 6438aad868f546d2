"""A service acts only on messages proven to be the next of their stream (issue 14, point 3).

Routing runs as a process against the real broker, trusting a key set of every producer. Onto
intake's topic go, as a stranger with access to the broker could put them: an unsigned
diagnosis, one signed with casework's key, one whose Kafka key is not its patient, a 900 KB
one, a sequence that skips ahead and a sequence seen before. Each is followed, on its
partition, by a genuine message whose effect shows that the bad one had none: a patient's only
route is the genuine one, as sequence 1 of routing's stream. Each bad message is dead-lettered
once in the service (by the inbound consumer, not also by the access graph, which reads the
topic too) with its reason, and counted by both readers in `carenet_messages_refused_total`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from carenet_devtools.kafka import run_sync
from carenet_devtools.keys import HandMadeStreams
from carenet_devtools.topics import read_records
from carenet_kit.inspection import MAX_MESSAGE_BYTES
from carenet_kit.topics import DEAD_LETTER_TOPIC
from carenet_kit.wire import header, kafka_record

from ..e2e.conftest import eventually
from .test_metrics import scrape, total
from .test_routing_service import published_about
from .test_services import Harness, inbound, persistence, start_service

__all__ = ["persistence"]  # the fixture: SQLite, then PostgreSQL

GENUINE_REGION, FORGED_REGION = "440305001", "440305005"
"""A genuine diagnosis routes to CHC-NS-NANTOU; a bad one, had it been acted on, to SHEKOU."""


@pytest.fixture
def routing(kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("routing", kafka_bootstrap, persistence, tmp_path)


def diagnosis(patient: str, region: str = GENUINE_REGION) -> dict[str, Any]:
    return json.loads(inbound("DiagnosisRecorded", patient, region_code=region)[1])


def forged_by_a_stranger(routing: Harness, patient: str) -> None:
    """Unsigned, though numbered as the next of the stream."""
    raw = {**diagnosis(patient, FORGED_REGION), "sequence": 1, "previous_hash": None}
    routing.produce("intake", patient.encode(), json.dumps(raw).encode())


def signed_by_another_producer(routing: Harness, patient: str) -> None:
    """Claims intake, signed with casework's key (of the key set the service trusts)."""
    message = json.dumps({**diagnosis(patient, FORGED_REGION), "sequence": 1})
    casework = routing.streams.keyring.signer("casework")
    key, headers = kafka_record(message, 0, casework.sign(message.encode()))
    routing.produce("intake", key, message.encode(), headers)


def oversized(routing: Harness, patient: str) -> None:
    """Signed by intake's own key and a valid contract, but 900 KB (JSON allows the padding)."""
    message = json.dumps({**diagnosis(patient, FORGED_REGION), "sequence": 1}) + " " * 900_000
    assert len(message) > MAX_MESSAGE_BYTES
    intake = routing.streams.keyring.signer("intake")
    key, headers = kafka_record(message, 0, intake.sign(message.encode()))
    routing.produce("intake", key, message.encode(), headers)


def routes_of(routing: Harness, patient: str) -> list[tuple[str, int]]:
    """(center, sequence) of each routing decision about the patient, once there is one."""
    return [(m.data.center_id, m.sequence) for m in published_about(routing, patient, 1)]


def test_messages_not_proven_are_dead_lettered_once_and_never_acted_on(routing: Harness) -> None:
    patients = {name: str(uuid4()) for name in ("unsigned", "other-key", "oversized", "gap")}
    patients |= {"misplaced": str(uuid4()), "after-misplaced": str(uuid4()), "repeat": str(uuid4())}
    for name in ("unsigned", "other-key", "oversized"):
        {
            "unsigned": forged_by_a_stranger,
            "other-key": signed_by_another_producer,
            "oversized": oversized,
        }[name](routing, patients[name])
        routing.publish("intake", json.dumps(diagnosis(patients[name])).encode())  # genuine

    # intake's own key and the next sequence, but under another patient's Kafka key
    _, value, headers = routing.streams.next_of(
        "intake", diagnosis(patients["misplaced"], FORGED_REGION)
    )
    routing.produce("intake", patients["after-misplaced"].encode(), value, headers)
    routing.publish("intake", json.dumps(diagnosis(patients["after-misplaced"])).encode())

    # sequence 2 before sequence 1: refused; sequence 1 then comes and is acted on
    first = routing.streams.next_of("intake", diagnosis(patients["gap"]))
    routing.produce(
        "intake", *routing.streams.next_of("intake", diagnosis(patients["gap"], FORGED_REGION))
    )
    routing.produce("intake", *first)

    # sequence 1 (a message routing ignores), then another sequence 1: refused; the first
    # again (a redelivery: nothing happens, nothing is dead-lettered); then sequence 2
    patient = patients["repeat"]
    ignored = json.loads(inbound("ReportingDeadlineMissed", patient)[1])
    delivered = routing.publish("intake", json.dumps(ignored).encode())
    again = HandMadeStreams(routing.streams.keyring).next_of(
        "intake", diagnosis(patient, FORGED_REGION)
    )
    routing.produce("intake", *again)
    routing.produce("intake", *delivered)
    routing.publish("intake", json.dumps(diagnosis(patient)).encode())

    for name in ("unsigned", "other-key", "oversized", "gap", "after-misplaced", "repeat"):
        assert routes_of(routing, patients[name]) == [("CHC-NS-NANTOU", 1)], name
    assert not [
        m for m in routing.published("routing") if str(m.patient_id) == patients["misplaced"]
    ]

    intake = routing.topic("intake")
    access = f"{routing.namespace}carenet-routing-access"

    def refused_by_both() -> list[tuple[str, dict[str, str], float]] | None:
        """The metrics once the access graph has taken every message of intake's topic
        (it counts them after each batch, dead letters sent)."""
        _, samples = scrape(routing)
        taken = total(samples, "carenet_events_consumed_total", consumer=access, topic=intake)
        return samples if taken == 14 else None

    samples = eventually(refused_by_both, timeout=60)
    reasons = {"forged": 2, "misplaced": 1, "oversized": 1, "gap": 1, "repeat": 1}
    for consumer in ("inbound", access):
        for reason, count in reasons.items():
            labels = {"consumer": consumer, "topic": intake, "reason": reason}
            assert total(samples, "carenet_messages_refused_total", **labels) == count

    letters = run_sync(read_records(routing.bootstrap, routing.namespace + DEAD_LETTER_TOPIC))
    by = Counter(header(list(r.headers), "carenet_dlq_consumer") for r in letters)
    assert by == {f"{routing.namespace}carenet-routing": 6}  # once, by the inbound consumer
    kinds = Counter(header(list(r.headers), "carenet_dlq_kind") for r in letters)
    assert kinds == reasons
    texts = {header(list(r.headers), "carenet_dlq_reason") for r in letters}
    assert "forged: unsigned" in texts
    assert "gap: sequence 2 where 1 is due" in texts
    assert "repeat: sequence 1 again: the stream is at 1" in texts
    assert "misplaced: the Kafka key is not the patient id" in texts
