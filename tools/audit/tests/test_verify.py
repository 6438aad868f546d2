"""The stream verifier on records built in memory: each kind of tampering, and its edge cases."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from bench.synthetic import Message, SyntheticNetwork
from carenet_audit_tool.verify import Report, StreamVerifier
from carenet_kit.inspection import ProblemKind, Record
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signer, valid_during
from carenet_kit.topics import load_catalog

NETWORK = SyntheticNetwork()
KEY_SET = json.loads(NETWORK.key_set_json())


def stream(patient: UUID, events: int = 3) -> list[Message]:
    return list(NETWORK.patient(patient, events))


def of(messages: list[Message], producer: str) -> list[Message]:
    return [m for m in messages if m.producer == producer]


def records(messages: list[Message]) -> list[Record]:
    """As a broker would hold them: each producer's messages on its topic, in the given order."""
    offsets: Counter[str] = Counter()
    result = []
    for m in messages:
        topic = load_catalog().topic_of(m.producer).name
        result.append(Record(topic, 0, offsets[topic], m.key, m.value, m.headers))
        offsets[topic] += 1
    return result


def verify(
    messages: list[Message], max_problems: int = 1_000, key_set: dict[str, Any] = KEY_SET
) -> tuple[Report, Callable[[Message], str]]:
    """The report, and where each message (this very object) lies on the broker."""
    on_broker = records(messages)
    verifier = StreamVerifier(key_set, max_problems=max_problems)
    verifier.feed(on_broker)

    def position(message: Message) -> str:
        return next(r.position for m, r in zip(messages, on_broker, strict=True) if m is message)

    return verifier.finish(), position


def kinds(report: Report) -> list[tuple[ProblemKind, str]]:
    return [(p.kind, p.position) for p in report.problems]


def signed(message: Message, value: bytes, signer: Signer) -> Message:
    """The message with a new value, and the headers re-signed by `signer`."""
    signature = signer.sign(value)
    headers = [(k, v) for k, v in message.headers if k not in (KEY_ID_HEADER, SIGNATURE_HEADER)]
    headers += [
        (KEY_ID_HEADER, signature.key_id.encode()),
        (SIGNATURE_HEADER, signature.value.encode()),
    ]
    return replace(message, value=value, headers=headers)


def edited(message: Message, **changes: object) -> bytes:
    envelope = json.loads(message.value)
    for name, change in changes.items():
        envelope[name] = change
    return json.dumps(envelope, separators=(",", ":")).encode()


def test_a_genuine_stream_is_verified_and_summarised() -> None:
    report, _ = verify([m for _ in range(3) for m in stream(uuid4(), events=2)])

    assert report.clean
    assert report.problems == []
    summary = report.summary
    assert (summary.events, summary.verified, summary.patients, summary.streams) == (24, 24, 3, 12)
    assert summary.producers == {"intake": 6, "routing": 6, "casework": 6, "notifications": 6}
    assert set(summary.key_ids) == {f"{p}-bench" for p in summary.producers}


def test_a_message_signed_with_a_key_not_in_the_set_is_forged() -> None:
    messages = stream(uuid4())
    intake = of(messages, "intake")
    rogue = Signer.generate("intake-rogue", "intake")
    forged = signed(
        intake[-1], edited(intake[-1], data={**json.loads(intake[-1].value)["data"]}), rogue
    )
    report, position = verify([*messages, forged])

    assert kinds(report) == [(ProblemKind.FORGED, position(forged))]
    assert "unknown key 'intake-rogue'" in report.problems[0].detail


def test_a_message_signed_with_another_producers_key_is_forged() -> None:
    messages = stream(uuid4())
    last = of(messages, "intake")[-1]
    value = edited(last, sequence=4, previous_hash=_sha(last.value), event_id=str(uuid4()))
    forged = signed(last, value, NETWORK.signers["routing"])
    report, position = verify([*messages, forged])

    assert kinds(report) == [(ProblemKind.FORGED, position(forged))]
    problem = report.problems[0]
    assert (problem.producer, problem.sequence, problem.found) == ("intake", 4, "routing-bench")


def test_an_unsigned_message_is_forged() -> None:
    messages = stream(uuid4())
    unsigned = replace(
        messages[1], headers=[h for h in messages[1].headers if h[0] != SIGNATURE_HEADER]
    )
    report, position = verify([messages[0], unsigned, *messages[2:]])

    # The genuine message it stands in for is gone, so its sequence is missing too.
    assert kinds(report) == [
        (ProblemKind.FORGED, position(unsigned)),
        (ProblemKind.MISSING, position(messages[2])),
    ]


def test_a_genuine_message_on_another_producers_topic_is_forged() -> None:
    messages = stream(uuid4())
    moved = replace(messages[0], producer="routing")
    report, position = verify([*messages, moved])

    assert kinds(report) == [(ProblemKind.FORGED, position(moved))]
    assert report.problems[0].expected == "carenet.intake.v1"
    assert report.problems[0].found == "carenet.routing.v1"


def test_an_altered_message_is_reported_once_where_it_lies() -> None:
    messages = stream(uuid4())
    casework = of(messages, "casework")
    target = casework[1]
    altered = replace(
        target,
        value=target.value.replace(b'"occurred_at":"2026-01-02', b'"occurred_at":"2026-01-09'),
    )
    assert altered.value != target.value
    report, position = verify([altered if m is target else m for m in messages])

    # The next message's previous_hash no longer matches either; that is the same alteration.
    assert kinds(report) == [(ProblemKind.ALTERED, position(altered))]
    assert report.problems[0].sequence == 2
    assert "does not verify with key 'casework-bench'" in report.problems[0].detail


def test_an_altered_message_that_breaks_its_contract_is_altered_not_invalid() -> None:
    messages = stream(uuid4())
    target = messages[1]
    altered = replace(target, value=edited(target, data={"nonsense": True}))
    report, position = verify([altered if m is target else m for m in messages])

    assert kinds(report) == [(ProblemKind.ALTERED, position(altered))]
    assert "no longer a contract" in report.problems[0].detail


RETIRED = datetime(2030, 1, 1, tzinfo=UTC)


def retired(producer: str, expires: datetime | None) -> dict[str, Any]:
    """The network's key set, the producer's key given an `exp` (None: no period)."""
    keys = [
        valid_during(k, None, expires) if k["carenet_producer"] == producer else k
        for k in KEY_SET["keys"]
    ]
    return {"keys": keys}


def test_a_message_signed_by_a_key_after_its_expiry_is_flagged_and_ignored() -> None:
    """Someone holding casework's retired key appends to a stream, dated after the key's exp."""
    messages = stream(uuid4())
    last = of(messages, "casework")[-1]
    value = edited(
        last,
        sequence=4,
        previous_hash=_sha(last.value),
        event_id=str(uuid4()),
        recorded_at="2030-02-01T09:00:00Z",
    )
    late = signed(last, value, NETWORK.signers["casework"])

    report, position = verify([*messages, late], key_set=retired("casework", RETIRED))

    assert kinds(report) == [(ProblemKind.EXPIRED_KEY, position(late))]
    problem = report.problems[0]
    assert (problem.producer, problem.sequence, problem.found) == ("casework", 4, "casework-bench")
    assert "expired at 2030-01-01" in problem.detail
    assert report.summary.verified == len(messages)
    # the same stream, the key without a period: the continuation is genuine
    assert verify([*messages, late], key_set=retired("casework", None))[0].clean


def test_what_a_retired_key_signed_in_its_period_still_verifies() -> None:
    report, _ = verify(stream(uuid4()), key_set=retired("casework", RETIRED))
    assert report.clean


def test_a_message_its_producer_signed_that_is_not_a_contract_is_invalid() -> None:
    messages = stream(uuid4())
    garbage = signed(messages[0], b'{"hello": "world"}', NETWORK.signers["intake"])
    report, position = verify([*messages, garbage])

    assert kinds(report) == [(ProblemKind.INVALID, position(garbage))]


def test_a_replaced_message_signed_by_its_producer_breaks_the_chain_at_the_next() -> None:
    messages = stream(uuid4())
    target = of(messages, "routing")[1]
    replacement = signed(target, edited(target, event_id=str(uuid4())), NETWORK.signers["routing"])
    report, position = verify([replacement if m is target else m for m in messages])

    following = of(messages, "routing")[2]
    assert kinds(report) == [(ProblemKind.ALTERED, position(following))]
    problem = report.problems[0]
    assert (problem.sequence, problem.expected, problem.found) == (
        3,
        _sha(replacement.value),
        _sha(target.value),
    )


def test_a_swapped_pair_is_reordered_not_a_gap_and_a_duplicate() -> None:
    messages = stream(uuid4(), events=4)
    routing = of(messages, "routing")
    swapped = [
        routing[2] if m is routing[1] else routing[1] if m is routing[2] else m for m in messages
    ]
    report, position = verify(swapped)

    assert kinds(report) == [(ProblemKind.REORDERED, position(routing[1]))]
    problem = report.problems[0]
    assert problem.sequence == 2
    assert problem.expected == f"before {position(routing[2])}"


def test_a_message_moved_far_back_is_reordered_and_still_links() -> None:
    messages = stream(uuid4(), events=6)
    intake = of(messages, "intake")
    moved = [m for m in messages if m is not intake[1]]
    moved.insert(moved.index(intake[4]) + 1, intake[1])
    report, position = verify(moved)

    assert kinds(report) == [(ProblemKind.REORDERED, position(intake[1]))]


def test_a_removed_message_is_missing_where_the_gap_shows() -> None:
    messages = stream(uuid4(), events=5)
    notifications = of(messages, "notifications")
    report, position = verify([m for m in messages if m not in notifications[1:3]])

    assert kinds(report) == [(ProblemKind.MISSING, position(notifications[3]))]
    problem = report.problems[0]
    assert (problem.producer, problem.sequence, problem.expected) == (
        "notifications",
        2,
        "sequence 2..3",
    )


def test_a_removed_first_message_is_missing() -> None:
    messages = stream(uuid4())
    first = of(messages, "casework")[0]
    report, position = verify([m for m in messages if m is not first])

    second = of(messages, "casework")[1]
    assert [(p.kind, p.position, p.sequence) for p in report.problems] == [
        (ProblemKind.MISSING, position(second), 1)
    ]


def test_a_message_seen_again_is_duplicated() -> None:
    messages = stream(uuid4())
    again = replace(messages[0])
    report, position = verify([*messages, again])

    assert kinds(report) == [(ProblemKind.DUPLICATED, position(again))]
    assert report.problems[0].sequence == 1


def test_a_message_under_another_kafka_key_is_misplaced() -> None:
    messages = stream(uuid4())
    misplaced = replace(messages[0], key=str(uuid4()).encode())
    report, position = verify([misplaced, *messages[1:]])

    assert kinds(report) == [(ProblemKind.MISPLACED, position(misplaced))]


def test_problems_beyond_the_limit_are_counted_not_kept() -> None:
    messages = stream(uuid4())
    report, _ = verify([*messages, *messages], max_problems=5)

    assert len(report.problems) == 5
    assert report.summary.problems[ProblemKind.DUPLICATED] == len(messages)
    assert report.as_dict()["problems_total"] == len(messages)


@pytest.mark.parametrize("garbage", [b"not json", b"[1, 2]", b"{}"])
def test_unsigned_garbage_is_reported_and_changes_no_stream(garbage: bytes) -> None:
    messages = stream(uuid4())
    junk = Message("intake", b"x", garbage, [])
    report, position = verify([messages[0], junk, *messages[1:]])

    assert [(p.kind, p.position) for p in report.problems] == [(ProblemKind.FORGED, position(junk))]


def _sha(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def test_an_oversized_message_is_reported_unread_even_when_its_producer_signed_it() -> None:
    intake = of(stream(uuid4(), events=2), "intake")
    padded = intake[1].value + b" " * 200_000  # still JSON, still the contract
    huge = signed(intake[1], padded, NETWORK.signers["intake"])
    report, position = verify([intake[0], huge])
    assert (ProblemKind.OVERSIZED, position(huge)) in kinds(report)
    assert report.summary.problems["oversized"] == 1
    assert report.summary.problems["missing"] == 0  # nothing followed it in its stream
