"""`carenet-audit replay` against the real broker: a genuine stream verifies; a tampered copy of
it is caught at each tampered position, and the tool exits 1."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from bench.synthetic import SyntheticNetwork, produce
from carenet_audit_tool.cli import app
from carenet_audit_tool.stream import TopicReader
from carenet_devtools import kafka
from carenet_devtools.kafka import run_sync
from carenet_kit.inspection import PRODUCERS, Record
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signer
from carenet_kit.topics import load_catalog

NETWORK = SyntheticNetwork()
PATIENTS, EVENTS = 8, 4


@dataclass(frozen=True)
class Genuine:
    namespace: str
    patients: list[UUID]


@dataclass(frozen=True)
class Outgoing:
    """A record to write to the copy: same topic (in the copy's namespace), partition and key."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    expect: str | None = None
    """The problem the verifier must report at this record's position in the copy."""

    @property
    def envelope(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.value)
        return parsed

    def is_(self, producer: str, patient: UUID, sequence: int) -> bool:
        envelope = self.envelope
        return (envelope["producer"], envelope["patient_id"], envelope["sequence"]) == (
            producer,
            str(patient),
            sequence,
        )


@pytest.fixture(scope="module")
def genuine(kafka_bootstrap: str) -> Genuine:
    namespace = f"replay-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    patients = run_sync(produce(kafka_bootstrap, namespace, NETWORK, PATIENTS, EVENTS))
    return Genuine(namespace, patients)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "jwks.json"
    path.write_text(NETWORK.key_set_json())
    return path


def replay(bootstrap: str, keys: Path, namespace: str, *extra: str) -> tuple[int, str]:
    args = ["replay", "--bootstrap", bootstrap, "--keys", str(keys), "--namespace", namespace]
    result = CliRunner().invoke(app, [*args, *extra])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_a_genuine_stream_replays_verified(
    kafka_bootstrap: str, keys: Path, genuine: Genuine
) -> None:
    code, output = replay(kafka_bootstrap, keys, genuine.namespace, "--json")

    assert code == 0, output
    report = json.loads(output)
    assert report["verified"] is True
    summary = report["summary"]
    events = PATIENTS * len(NETWORK.signers) * EVENTS
    assert (summary["events"], summary["verified"], summary["patients"]) == (
        events,
        events,
        PATIENTS,
    )
    assert summary["streams"] == PATIENTS * len(NETWORK.signers)
    assert sum(summary["problems"].values()) == 0
    # one signature per stream covers its chain; --every-signature checks them all
    assert (summary["every_signature"], summary["signatures"]) == (False, summary["streams"])
    code, output = replay(kafka_bootstrap, keys, genuine.namespace, "--json", "--every-signature")
    assert code == 0, output
    every = json.loads(output)["summary"]
    assert (every["every_signature"], every["signatures"]) == (True, events)


def test_a_tampered_copy_is_caught_at_every_tampered_position(
    kafka_bootstrap: str, keys: Path, genuine: Genuine
) -> None:
    copy = list(tamper(read(kafka_bootstrap, genuine.namespace), genuine.patients))
    namespace = f"replay-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    expected = run_sync(write(kafka_bootstrap, namespace, copy))
    assert len(expected) == 6

    code, output = replay(kafka_bootstrap, keys, namespace, "--json")

    assert code == 1, output
    report = json.loads(output)
    found = {(p["kind"], p["position"], p["patient_id"]) for p in report["problems"]}
    assert found == expected
    assert report["summary"]["every_signature"] is True  # the fast pass found problems
    assert report["summary"]["problems"] == {
        "invalid": 0,
        "forged": 2,
        "altered": 1,
        "misplaced": 0,
        "oversized": 0,
        "duplicated": 1,
        "reordered": 1,
        "missing": 1,
        "expired_key": 0,
        "truncated": 0,
    }
    code, output = replay(kafka_bootstrap, keys, namespace, "--json", "--workers", "2")
    assert code == 1, output
    in_parallel = json.loads(output)["problems"]
    assert sorted(in_parallel, key=by_position) == sorted(report["problems"], key=by_position)
    code, table = replay(kafka_bootstrap, keys, namespace)
    assert code == 1
    assert "Problems" in table
    assert "reordered" in table


def test_replay_of_topics_that_do_not_exist_is_a_usage_error(
    kafka_bootstrap: str, keys: Path
) -> None:
    code, output = replay(kafka_bootstrap, keys, f"absent-{uuid4().hex[:8]}.")

    assert code == 2
    assert "no such topic" in output


def test_replay_without_a_key_set_is_a_usage_error(kafka_bootstrap: str, tmp_path: Path) -> None:
    code, output = replay(kafka_bootstrap, tmp_path / "jwks.json", "")

    assert code == 2
    assert "does not exist" in output


def by_position(problem: dict[str, Any]) -> str:
    return str(problem["position"])


def tamper(records: list[Record], patients: list[UUID]) -> Iterator[Outgoing]:
    """The genuine records, with one kind of tampering on each of six patients."""
    copy = [
        Outgoing(r.topic.split(".", 1)[1], r.partition, r.key, r.value, r.headers) for r in records
    ]
    forged, misattributed, altered, swapped, removed, repeated = patients[:6]

    def at(producer: str, patient: UUID, sequence: int) -> int:
        return next(i for i, o in enumerate(copy) if o.is_(producer, patient, sequence))

    # An event appended to the chain as it should be, but signed with a key not in the set.
    last = at("intake", forged, EVENTS)
    rogue = Signer.generate("intake-bench-2", "intake")
    copy.insert(last + 1, continued(copy[last], rogue, "forged"))
    # The same, signed with a genuine key of another producer.
    last = at("intake", misattributed, EVENTS)
    copy.insert(last + 1, continued(copy[last], NETWORK.signers["routing"], "forged"))
    # A value changed after signing (what it says happened a week later).
    i = at("casework", altered, 2)
    envelope = copy[i].envelope
    envelope["occurred_at"] = envelope["occurred_at"].replace("2026-01-02", "2026-01-09")
    copy[i] = replace(copy[i], value=json.dumps(envelope).encode(), expect="altered")
    # Two events of one stream swapped: sequence 2 now comes after 3.
    i, j = at("routing", swapped, 2), at("routing", swapped, 3)
    copy[i], copy[j] = replace(copy[j]), replace(copy[i], expect="reordered")
    # An event removed: the gap shows at the next one.
    copy.pop(at("notifications", removed, 2))
    i = at("notifications", removed, 3)
    copy[i] = replace(copy[i], expect="missing")
    # An event written twice.
    i = at("intake", repeated, 3)
    copy.insert(i + 1, replace(copy[i], expect="duplicated"))
    yield from copy


def continued(previous: Outgoing, signer: Signer, expect: str) -> Outgoing:
    """A new event after `previous` in its stream, properly chained, signed by `signer`."""
    envelope = previous.envelope | {
        "event_id": str(uuid4()),
        "sequence": previous.envelope["sequence"] + 1,
        "previous_hash": hashlib.sha256(previous.value).hexdigest(),
    }
    value = json.dumps(envelope).encode()
    signature = signer.sign(value)
    headers = [(k, v) for k, v in previous.headers if k not in (KEY_ID_HEADER, SIGNATURE_HEADER)]
    headers += [
        (KEY_ID_HEADER, signature.key_id.encode()),
        (SIGNATURE_HEADER, signature.value.encode()),
    ]
    return replace(previous, value=value, headers=headers, expect=expect)


def read(bootstrap: str, namespace: str) -> list[Record]:
    async def all_records() -> list[Record]:
        catalog = load_catalog()
        reader = TopicReader(bootstrap, [namespace + catalog.topic_of(p).name for p in PRODUCERS])
        await reader.open()
        try:
            return [r async for batch in reader.batches() for r in batch]
        finally:
            await reader.close()

    return run_sync(all_records())


async def write(bootstrap: str, namespace: str, copy: list[Outgoing]) -> set[tuple[str, str, str]]:
    """Write the copy, each record to its partition in order; the problems expected, and where."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            (
                o,
                await producer.send(
                    namespace + o.topic, o.value, o.key, partition=o.partition, headers=o.headers
                ),
            )
            for o in copy
        ]
        expected = set()
        for o, future in sent:
            metadata = await future
            if o.expect is not None:
                position = f"{metadata.topic}:{metadata.partition}@{metadata.offset}"
                expected.add((o.expect, position, o.envelope["patient_id"]))
        return expected
    finally:
        await producer.stop()
