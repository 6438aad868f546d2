"""A refusal of any kind on the stream path goes to the dead-letter topic with its reason.

The kinds (`carenet_kit.refusals`) answer HTTP with their own status; on a Kafka message every
one of them is dead-lettered as a refused command always was (kind `rejected`, reason
`rejected: <why>`). Before the kinds, a not-found refusal was a `LookupError` the consumer did
not know, so it never reached the dead-letter topic. Casework as a process, real broker, SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord

from carenet_devtools.kafka import run_sync
from carenet_devtools.topics import read_records
from carenet_kit.topics import DEAD_LETTER_TOPIC
from carenet_kit.wire import header

from ..e2e.conftest import eventually
from .test_services import Harness, of, routed, start_service

SQLITE = {"CARENET_PERSISTENCE": "sqlite"}


@pytest.fixture
def casework(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("casework", kafka_bootstrap, SQLITE, tmp_path)


def inbound_dead_letters(harness: Harness) -> list[ConsumerRecord[bytes, bytes]]:
    """The dead letters of casework's inbound consumer (not of its access-graph loader)."""
    records = run_sync(read_records(harness.bootstrap, harness.namespace + DEAD_LETTER_TOPIC))
    consumer = f"{harness.namespace}carenet-casework"
    return [r for r in records if header(list(r.headers), "carenet_dlq_consumer") == consumer]


def test_a_not_found_refusal_on_the_stream_is_dead_lettered_with_its_reason(
    casework: Harness,
) -> None:
    # negative control: a message the service acts on is not dead-lettered
    _, value, patient = routed("CHC-NS-XILI")
    casework.publish("routing", value)
    eventually(lambda: of(patient, casework.published("casework")) or None)
    assert inbound_dead_letters(casework) == []

    # contact details for a case that is not here: `NoCase`, a not-found refusal
    unknown_case = uuid4()
    casework.send("intake", "ContactDetailsShared", patient, case_id=str(unknown_case))
    (dead,) = eventually(lambda: inbound_dead_letters(casework) or None)
    headers = list(dead.headers)
    assert header(headers, "carenet_dlq_kind") == "rejected"
    assert header(headers, "carenet_dlq_reason") == (
        f"rejected: contact details for case {unknown_case}, which is not here"
    )
    assert header(headers, "carenet_dlq_topic") == casework.topic("intake")

    # the partition goes on: a later message is acted on, and nothing is dead-lettered twice
    _, marker, later = routed("CHC-NS-XILI")
    casework.publish("routing", marker)
    eventually(lambda: of(later, casework.published("casework")) or None)
    assert len(inbound_dead_letters(casework)) == 1
