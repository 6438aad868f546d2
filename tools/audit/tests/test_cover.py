"""The replay's fast pass on records built in memory: signatures checked where they cover each
stream's hash chain (`carenet_kit.chain_cover`), and what that still catches in the middle of a
stream, where no signature is checked."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any
from uuid import uuid4

from bench.synthetic import Message
from carenet_audit_tool.shards import follow
from carenet_audit_tool.verify import Report, StreamVerifier
from carenet_kit.chain_cover import ChainCover
from carenet_kit.inspection import MessageInspector, ProblemKind
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signer, key_set
from tools.audit.tests.test_verify import (
    KEY_SET,
    NETWORK,
    edited,
    of,
    records,
    signed,
    stream,
)

PATIENTS, EVENTS = 3, 5


def fast_pass(
    messages: list[Message], keys: dict[str, Any] = KEY_SET, pending_streams: int = 100
) -> Report:
    """What `carenet-audit replay` does without --every-signature, before any second pass."""
    on_broker = records(messages)
    inspector = MessageInspector(keys)
    verifier = StreamVerifier(keys, every_signature=False)
    cover = ChainCover(inspector.trusted, pending_streams)
    inspected = [inspector.inspect(r, verify_signature=False) for r in on_broker]
    follow(verifier, cover, on_broker, inspected)
    verifier.report_all(cover.finish())
    report = verifier.finish()
    report.summary.signatures = cover.verified
    return report


def patients() -> list[Message]:
    return [m for _ in range(PATIENTS) for m in stream(uuid4(), EVENTS)]


def middle(messages: list[Message]) -> Message:
    """The third of five messages of one casework stream: neither first nor last."""
    return of(messages, "casework")[2]


def interleaved(messages: list[Message]) -> list[Message]:
    """Each stream still in order, the streams taking turns: all of them pending at once."""
    taken: Counter[tuple[str, bytes]] = Counter()
    turns = []
    for m in messages:
        turns.append((taken[(m.producer, m.key)], m))
        taken[(m.producer, m.key)] += 1
    return [m for _, m in sorted(turns, key=lambda turn: turn[0])]


def with_header(message: Message, name: str, value: bytes) -> Message:
    headers = [(k, value if k == name else v) for k, v in message.headers]
    return replace(message, headers=headers)


def test_a_genuine_stream_is_verified_with_one_signature_per_stream() -> None:
    report = fast_pass(patients())

    assert report.clean
    streams = PATIENTS * len(NETWORK.signers)
    assert report.summary.verified == streams * EVENTS
    assert report.summary.signatures == streams
    assert report.summary.every_signature is False


def test_a_value_altered_in_the_middle_of_a_stream_is_caught_by_the_next_link() -> None:
    messages = patients()
    target = middle(messages)
    altered = replace(target, value=edited(target, occurred_at="2026-01-09T00:00:00+00:00"))

    report = fast_pass([altered if m is target else m for m in messages])

    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.ALTERED, 4)]
    assert "previous_hash" in report.problems[0].detail


def test_a_middle_message_replaced_and_re_signed_by_a_stranger_is_caught() -> None:
    messages = patients()
    target = middle(messages)
    rogue = Signer.generate("casework-bench", "casework")  # the genuine key id, another key
    forged = signed(target, edited(target, occurred_at="2026-01-09T00:00:00+00:00"), rogue)

    report = fast_pass([forged if m is target else m for m in messages])

    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.ALTERED, 4)]


def test_a_key_rotation_in_a_stream_is_verified_at_the_last_message_of_each_key() -> None:
    rotated = Signer.generate("casework-bench-2", "casework")
    keys = key_set([*(s.public_jwk() for s in NETWORK.signers.values()), rotated.public_jwk()])
    messages = patients()
    casework = of(messages, "casework")
    # From the fourth message on, this stream is signed with the new key (same values).
    changed = {id(m): signed(m, m.value, rotated) for m in casework[3:EVENTS]}

    report = fast_pass([changed.get(id(m), m) for m in messages], keys)

    assert report.clean
    assert report.summary.signatures == PATIENTS * len(NETWORK.signers) + 1


def test_a_middle_message_naming_another_key_of_its_producer_is_caught_where_it_lies() -> None:
    rotated = Signer.generate("casework-bench-2", "casework")
    keys = key_set([*(s.public_jwk() for s in NETWORK.signers.values()), rotated.public_jwk()])
    messages = patients()
    target = middle(messages)
    renamed = with_header(target, KEY_ID_HEADER, rotated.key_id.encode())

    report = fast_pass([renamed if m is target else m for m in messages], keys)

    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.ALTERED, 3)]


def test_a_middle_message_whose_signature_header_is_not_a_signature_is_caught() -> None:
    messages = patients()
    target = middle(messages)
    stripped = with_header(target, SIGNATURE_HEADER, b"c2lnbmF0dXJl")

    report = fast_pass([stripped if m is target else m for m in messages])

    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.ALTERED, 3)]


def test_what_the_fast_pass_does_not_prove_a_wrong_signature_on_an_unaltered_middle_value() -> None:
    """The documented limit: the value is proven by the next signature, the header is not."""
    messages = patients()
    target = middle(messages)
    other = of(messages, "casework")[1]
    wrong = with_header(target, SIGNATURE_HEADER, dict(other.headers)[SIGNATURE_HEADER])

    assert fast_pass([wrong if m is target else m for m in messages]).clean
    verifier = StreamVerifier(KEY_SET)
    verifier.feed(records([wrong if m is target else m for m in messages]))
    assert [p.kind for p in verifier.finish().problems] == [ProblemKind.ALTERED]


def test_streams_beyond_the_pending_limit_are_verified_early_and_still_clean() -> None:
    report = fast_pass(interleaved(patients()), pending_streams=1)

    assert report.clean
    assert report.summary.signatures > PATIENTS * len(NETWORK.signers)


def test_the_last_message_of_a_stream_is_verified() -> None:
    messages = patients()
    last = of(messages, "routing")[-1]
    altered = replace(last, value=json.dumps(json.loads(last.value) | {"x": 1}).encode())

    report = fast_pass([altered if m is last else m for m in messages])

    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.ALTERED, EVENTS)]
