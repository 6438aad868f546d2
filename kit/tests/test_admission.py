"""Admission: each message proven on its own, then placed in its (producer, patient) stream;
and the stream positions kept in the consumer's store, moving only forward."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Tracking

from bench.synthetic import SyntheticNetwork
from carenet_kit.admission import (
    UNTRUSTED,
    Admitted,
    Gate,
    Inadmissible,
    Redelivered,
    Stream,
    StreamPosition,
    StreamTracking,
)
from carenet_kit.consumed_streams import StreamPositions
from carenet_kit.inspection import Record
from carenet_kit.service_recorder import service_process_recorder
from carenet_kit.signing import key_set, valid_during
from carenet_kit.topics import load_catalog
from carenet_kit.wire import kafka_record

NETWORK = SyntheticNetwork()
GATE = Gate(json.loads(NETWORK.key_set_json()))
INTAKE = load_catalog().topic_of("intake").name


def stream(events: int) -> list[Record]:
    """One patient's intake stream, as it lies on the topic."""
    messages = [m for m in NETWORK.patient(uuid4(), events) if m.producer == "intake"]
    return [Record(INTAKE, 0, n, m.key, m.value, m.headers) for n, m in enumerate(messages)]


def admit_all(records: list[Record]) -> list[Any]:
    positions: dict[Stream, StreamPosition] = {}
    verdicts = []
    for record in records:
        verdict = GATE.admit(record, positions.get)
        if isinstance(verdict, Admitted):
            positions[verdict.position.stream] = verdict.position
        verdicts.append(verdict)
    return verdicts


def test_a_genuine_stream_is_admitted_in_order_and_its_last_message_again_is_a_redelivery() -> None:
    records = stream(3)
    verdicts = admit_all([*records, records[2]])
    assert [type(v) for v in verdicts] == [Admitted, Admitted, Admitted, Redelivered]
    assert [v.position.sequence for v in verdicts[:3]] == [1, 2, 3]


def test_gaps_repeats_and_broken_links_are_refused() -> None:
    first, second, third = stream(3)
    assert admit_all([second])[0] == Inadmissible("gap", "sequence 2 where 1 is due")
    assert admit_all([first, second, third, second])[3] == Inadmissible(
        "repeat", "sequence 2 again: the stream is at 3"
    )
    other = stream(2)[1]  # sequence 2 of another patient's stream, under this patient's key
    raw = {**json.loads(other.value), "patient_id": json.loads(first.value)["patient_id"]}
    message = json.dumps(raw)
    signer = NETWORK.signers["intake"]
    key, headers = kafka_record(message, 0, signer.sign(message.encode()))
    forked = Record(INTAKE, 0, 9, key, message.encode(), headers)
    verdict = admit_all([first, forked])[1]
    assert isinstance(verdict, Inadmissible)
    assert verdict.reason == "altered"


def test_a_message_signed_outside_its_keys_validity_period_is_refused_as_expired_key() -> None:
    """The synthetic stream is recorded from 2026-01-01: a key set in which intake's key only
    takes over in 2027 proves none of it."""
    (record,) = stream(1)
    later = datetime(2027, 1, 1, tzinfo=UTC)
    keys = [
        valid_during(s.public_jwk(), later if s.producer == "intake" else None, None)
        for s in NETWORK.signers.values()
    ]
    verdict = Gate(key_set(keys)).admit(record, {}.get)
    assert isinstance(verdict, Inadmissible)
    assert verdict.reason == "expired_key"


def test_a_message_not_proven_on_its_own_is_refused_before_its_stream_is_looked_at() -> None:
    (record,) = stream(1)
    unsigned = Record(INTAKE, 0, 0, record.key, record.value, [])
    moved = Record(load_catalog().topic_of("routing").name, 0, 0, record.key, record.value, [])
    misplaced = Record(INTAKE, 0, 0, b"someone else", record.value, record.headers)
    huge = Record(INTAKE, 0, 0, record.key, record.value + b" " * 200_000, record.headers)
    looked: list[Stream] = []

    def last(stream: Stream) -> StreamPosition | None:
        looked.append(stream)
        return None

    verdicts = [GATE.admit(r, last) for r in (unsigned, moved, misplaced, huge)]
    assert [v.reason for v in verdicts if isinstance(v, Inadmissible)] == [
        "forged",
        "forged",
        "misplaced",
        "oversized",
    ]
    assert looked == []
    assert Gate(None).admit(record, last) == UNTRUSTED


def test_a_genuine_message_that_is_no_contract_moves_its_stream_on() -> None:
    (record,) = stream(1)
    raw = json.loads(record.value)
    raw["data"] = {"unknown": True}
    message = json.dumps(raw)
    key, headers = kafka_record(message, 0, NETWORK.signers["intake"].sign(message.encode()))
    verdict = GATE.admit(Record(INTAKE, 0, 0, key, message.encode(), headers), lambda s: None)
    assert isinstance(verdict, Admitted)
    assert verdict.envelope is None
    assert verdict.contract_error is not None
    assert verdict.position.sequence == 1


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "s")}
    else:
        database = request.getfixturevalue("postgres_database")
        yield {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **database}


def test_a_stream_position_moves_only_forward_with_its_tracking_record(
    store: dict[str, str],
) -> None:
    factory = InfrastructureFactory.construct(store)
    try:
        recorder = service_process_recorder(factory)
        positions: StreamPositions = recorder  # type: ignore[assignment]
        key = ("intake", str(uuid4()))
        first = StreamPosition(*key, 1, "e1", "d1")
        recorder.insert_tracking(StreamTracking("t:0", 1, (first,)))
        assert positions.stream_positions([key]) == {key: first}
        with pytest.raises(IntegrityError):  # another replica took sequence 1 at offset 2
            recorder.insert_tracking(StreamTracking("t:1", 2, (first,)))
        assert recorder.max_tracking_id("t:1") is None  # the whole transaction rolled back
        second = StreamPosition(*key, 2, "e2", "d2")
        recorder.insert_tracking(StreamTracking("t:0", 3, (second,)))
        recorder.insert_tracking(Tracking("t:0", 4))  # a refused message moves no stream
        assert positions.stream_positions([key, ("routing", key[1])]) == {key: second}
    finally:
        factory.close()
