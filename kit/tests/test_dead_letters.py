"""A dead letter names its consumer and source, and a process sends each one once (a batch taken
again after a storage failure does not send it again)."""

from __future__ import annotations

import pytest

from carenet_kit import dead_letters
from carenet_kit.dead_letters import DeadLetters
from carenet_kit.inspection import Record
from carenet_kit.wire import Headers, header


def record(offset: int) -> Record:
    return Record("carenet.routing.v1", 2, offset, b"patient", b"{}", [])


async def test_each_dead_letter_is_sent_once_per_process_with_its_identity() -> None:
    sent: list[tuple[bytes | None, bytes, Headers]] = []

    async def send(key: bytes | None, value: bytes, headers: Headers) -> None:
        sent.append((key, value, headers))

    letters = DeadLetters("carenet-casework", "inbound")
    await letters.send(send, record(7), "forged", "forged: unsigned\nmore")
    await letters.send(send, record(7), "forged", "forged: unsigned")  # the batch taken again
    await letters.send(send, record(8), "contract", "contract: unknown version")

    assert [(key, value) for key, value, _ in sent] == [(b"patient", b"{}")] * 2
    headers = sent[0][2]
    assert header(headers, "carenet_dlq_consumer") == "carenet-casework"
    assert header(headers, "carenet_dlq_topic") == "carenet.routing.v1"
    assert header(headers, "carenet_dlq_partition") == "2"
    assert header(headers, "carenet_dlq_offset") == "7"
    assert header(headers, "carenet_dlq_kind") == "forged"


async def test_what_a_process_remembers_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []

    async def send(key: bytes | None, value: bytes, headers: Headers) -> None:
        sent.append(int(header(headers, "carenet_dlq_offset") or -1))

    monkeypatch.setattr(dead_letters, "REMEMBERED", 2)
    letters = DeadLetters("c", "inbound")
    for offset in (1, 2, 3, 1):
        await letters.send(send, record(offset), "forged", "forged")
    assert sent == [1, 2, 3, 1]  # 1 was forgotten, 3 is still known
