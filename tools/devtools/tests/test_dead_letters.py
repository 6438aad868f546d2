"""`carenet-dev dead-letters` against the real broker: dead letters grouped by consumer, source
topic and reason, with positions and no message content; a copy counted once."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from carenet_devtools import kafka
from carenet_devtools.cli import app, console
from carenet_kit.topics import DEAD_LETTER_TOPIC

SECRET_CONTENT = b'{"note": "content that must never be printed"}'


async def dead_letter_some(bootstrap: str, namespace: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        letters = [
            ("carenet-routing", "carenet.intake.v1", 3, "rejected: no such center\nmore"),
            ("carenet-routing", "carenet.intake.v1", 7, "rejected: no such center"),
            ("carenet-audit-history", "carenet.casework.v1", 1, "contract: unknown version 9"),
            ("carenet-routing", "carenet.intake.v1", 8, "gap: sequence 4 where 2 is due"),
            ("carenet-routing", "carenet.intake.v1", 9, "gap: sequence 9 where 5 is due"),
            # the first one again, as a consumer restarted after a crash sends it
            ("carenet-routing", "carenet.intake.v1", 3, "rejected: no such center\nmore"),
        ]
        for consumer, topic, offset, reason in letters:
            headers = [
                ("carenet_dlq_reason", reason.encode()),
                ("carenet_dlq_kind", reason.split(":")[0].encode()),
                ("carenet_dlq_topic", (namespace + topic).encode()),
                ("carenet_dlq_partition", b"2"),
                ("carenet_dlq_offset", str(offset).encode()),
                ("carenet_dlq_consumer", (namespace + consumer).encode()),
            ]
            await producer.send_and_wait(
                namespace + DEAD_LETTER_TOPIC, SECRET_CONTENT, key=b"k", headers=headers
            )
    finally:
        await producer.stop()


def test_dead_letters_are_summarised_by_consumer_topic_and_reason(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a wide terminal, wherever pytest runs (a worker's terminal size is not COLUMNS's)
    monkeypatch.setattr(console, "width", 200)
    namespace = f"dlq-{uuid.uuid4().hex[:8]}."
    kafka.run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    kafka.run_sync(dead_letter_some(kafka_bootstrap, namespace))

    result = CliRunner().invoke(
        app,
        ["dead-letters", "--bootstrap", kafka_bootstrap, "--namespace", namespace, "--positions"],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    routing = next(line for line in lines if "no such center" in line and "│" in line)
    assert "carenet-routing" in routing
    assert "carenet.intake.v1" in routing
    assert " 2 " in routing
    assert any("carenet-audit-history" in line and "unknown version 9" in line for line in lines)
    assert "carenet-routing  carenet.intake.v1:2:3" in result.output
    assert "carenet-routing  carenet.intake.v1:2:7" in result.output
    gaps = next(line for line in lines if "refused: gap" in line and "│" in line)
    assert " 2 " in gaps  # one group, whatever the sequences
    assert "carenet.intake.v1:2:9  (dead letter" in result.output
    assert "gap: sequence 9 where 5 is due" in result.output  # each one's own reason
    assert "5 dead letters" in result.output
    assert "(1 sent again after a crash, counted once)" in result.output
    assert "more" not in result.output  # the first line of a reason only
    assert "never be printed" not in result.output
    assert namespace not in result.output.replace(f"on {namespace}", "")
