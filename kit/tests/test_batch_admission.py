"""A batch reader's admission of one fetch: signatures checked through the streams' chains,
and the whole fetch judged again, every signature checked, when that finds anything wrong."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from bench.synthetic import Message, SyntheticNetwork
from carenet_kit.admission import Gate, Stream, StreamPosition
from carenet_kit.batches import BatchConsumer, Judged, PartitionBatch
from carenet_kit.signing import PROVEN, SIGNATURE_HEADER, Signer
from carenet_kit.topics import load_catalog

NETWORK = SyntheticNetwork()
KEY_SET = json.loads(NETWORK.key_set_json())
PATIENTS, EVENTS = 3, 5


class NothingTracked:
    """A sink that has taken nothing yet."""

    def max_tracking_id(self, application_name: str) -> int | None:
        return None

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        return {}

    def write(self, batches: Sequence[PartitionBatch]) -> None:
        raise AssertionError("not written here")


def fetched(messages: list[Message]) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
    """As one fetch returns them: each producer's messages on partition 0 of its topic."""
    result: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
    for m in messages:
        tp = TopicPartition(load_catalog().topic_of(m.producer).name, 0)
        records = result.setdefault(tp, [])
        records.append(
            ConsumerRecord(tp.topic, 0, len(records), 0, 0, m.key, m.value, None, 0, 0, m.headers)
        )
    return result


def judged(
    messages: list[Message], every_signature: bool = False, gate: Gate | None = None
) -> list[Judged]:
    sink = NothingTracked()
    consumer = BatchConsumer("reader", "unused:9092", [], sink, "dead", gate or Gate(KEY_SET))
    fetch = fetched(messages)
    if every_signature:
        return [consumer._judge(f"{tp.topic}:0", r, None) for tp, r in fetch.items()]
    return consumer._judge_all(fetch)


def outcome(partitions: list[Judged]) -> list[tuple[str, int, str]]:
    """Each message's fate: (topic, offset, "delivered" or the reason it was refused)."""
    fates = [
        (d.record.topic, d.record.offset, "delivered") for p in partitions for d in p.delivered
    ]
    fates += [(r.topic, r.offset, reason) for p in partitions for r, reason, _ in p.refused]
    return sorted(fates)


def patients() -> list[Message]:
    return [m for _ in range(PATIENTS) for m in NETWORK.patient(uuid4(), EVENTS)]


def of(messages: list[Message], producer: str) -> list[Message]:
    return [m for m in messages if m.producer == producer]


def with_value(message: Message, **changes: object) -> Message:
    """The message with a value its signature does not cover."""
    return replace(message, value=json.dumps(json.loads(message.value) | changes).encode())


@pytest.fixture(autouse=True)
def nothing_proven_yet() -> None:
    PROVEN.forget()


def test_a_genuine_fetch_is_delivered_whole_with_one_signature_checked_per_stream() -> None:
    gate = Gate(KEY_SET)
    assert gate.inspector is not None
    trusted, checked = gate.inspector.trusted, Counter[str]()
    problem_with = trusted.problem_with

    def counted(producer: str, *args: Any, **kwargs: Any) -> str | None:
        checked[producer] += 1
        return problem_with(producer, *args, **kwargs)

    trusted.problem_with = counted  # type: ignore[method-assign]
    messages = patients()

    result = judged(messages, gate=gate)

    assert sum(len(p.delivered) for p in result) == len(messages)
    assert not any(p.refused for p in result)
    assert checked == {producer: PATIENTS for producer in NETWORK.signers}


def test_a_last_message_whose_signature_fails_is_refused_as_the_full_check_refuses_it() -> None:
    messages = patients()
    last = of(messages, "routing")[-1]
    forged = [with_value(m, x=1) if m is last else m for m in messages]

    result = outcome(judged(forged))

    assert result == outcome(judged(forged, every_signature=True))
    refused = [fate for fate in result if fate[2] != "delivered"]
    assert refused == [
        (load_catalog().topic_of("routing").name, len(of(messages, "routing")) - 1, "altered")
    ]


def test_a_value_altered_in_the_middle_is_refused_as_the_full_check_refuses_it() -> None:
    messages = patients()
    middle = of(messages, "casework")[2]
    forged = [with_value(m, x=1) if m is middle else m for m in messages]

    result = outcome(judged(forged))

    assert result == outcome(judged(forged, every_signature=True))
    casework = load_catalog().topic_of("casework").name
    assert [f for f in result if f[2] != "delivered"] == [
        (casework, 2, "altered"),
        (casework, 3, "gap"),
        (casework, 4, "gap"),
    ]


def test_a_middle_message_re_signed_by_a_stranger_is_refused_as_the_full_check_refuses_it() -> None:
    messages = patients()
    middle = of(messages, "casework")[2]
    rogue = Signer.generate("casework-bench", "casework")  # the genuine key id, another key
    value = with_value(middle, occurred_at="2026-01-09T00:00:00+00:00").value
    signature = rogue.sign(value)
    headers = [
        (k, signature.value.encode() if k == SIGNATURE_HEADER else v) for k, v in middle.headers
    ]
    forged = [replace(m, value=value, headers=headers) if m is middle else m for m in messages]

    result = outcome(judged(forged))

    assert result == outcome(judged(forged, every_signature=True))
    assert any(f[2] == "altered" for f in result)


def test_a_refusal_on_the_cheap_checks_is_reported_as_the_full_check_reports_it() -> None:
    """Message 2 lost and message 3 altered: without its signature checked, 3 would read as a
    gap; checked on its own, it is an altered message."""
    messages = patients()
    casework = of(messages, "casework")
    lost, changed = casework[1], casework[2]
    forged = [with_value(m, x=1) if m is changed else m for m in messages if m is not lost]

    result = outcome(judged(forged))

    assert result == outcome(judged(forged, every_signature=True))
    topic = load_catalog().topic_of("casework").name
    assert [f for f in result if f[2] != "delivered"] == [
        (topic, 1, "altered"),
        (topic, 2, "gap"),
        (topic, 3, "gap"),
    ]
