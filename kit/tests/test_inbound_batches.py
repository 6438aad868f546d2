"""The inbound agent's batches: a message with no effect is deferred, not committed on its own.

What must still hold (`carenet_kit.inbound`): the next message of a stream follows a deferred
one (not the store's older position), and an effect records the messages deferred before it in
its own transaction, so that a crash after it loses none of their stream positions (on
PostgreSQL; on SQLite the whole batch is one transaction, `carenet_kit.group_commit`), and a
batch taken again changes nothing. Real stores (SQLite, PostgreSQL), no broker: `take` is what the
agent calls with each batch faust hands it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore

from bench.synthetic import Message, SyntheticNetwork
from carenet_contracts import Envelope, Producer
from carenet_kit import group_commit
from carenet_kit.admission import Gate
from carenet_kit.application import ServiceApplication
from carenet_kit.consumed_streams import StreamPositions
from carenet_kit.inbound import InboundConsumer, faust_app
from carenet_kit.inspection import Record
from carenet_kit.outbox import Cause
from carenet_kit.topics import load_catalog

NETWORK = SyntheticNetwork()
INTAKE = load_catalog().topic_of("intake").name


class Seen(Aggregate):
    """One per message acted on: the effect, counted in the notification log."""

    def __init__(self, event_id: UUID) -> None:
        self.event_id = event_id


class Crash(Exception):
    """The process dies in the middle of a batch."""


class Acting(ServiceApplication):
    """Acts on the messages of the patients in `acts_on`, ignores the others."""

    producer: ClassVar[Producer] = "casework"

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env, outbound=lambda _: None)
        self.acts_on: set[UUID] = set()
        self.crashes_on: set[UUID] = set()

    def policy(self, envelope: Envelope[Any], cause: Cause) -> None:
        if envelope.event_id in self.crashes_on:
            raise Crash
        if envelope.patient_id in self.acts_on:
            self.commit(Seen(envelope.event_id), cause=cause)

    def effects(self) -> int:
        return self.process_recorder.max_notification_id() or 0


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Acting]:
    if request.param == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "s")}
    else:
        database = request.getfixturevalue("postgres_database")
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **database}
    application = Acting(env)
    yield application
    application.close()


def consumer(app: Acting, tmp_path: Path) -> InboundConsumer:
    """The agent's path; its faust app is never started, so a dead letter would fail the test."""
    unstarted = faust_app(f"test-{uuid4().hex[:8]}", "127.0.0.1:1", tmp_path / "faust")
    gate = Gate(json.loads(NETWORK.key_set_json()))
    return InboundConsumer(unstarted, app, [INTAKE], "unused", app.policy, gate)


def on_partition(messages: list[Message]) -> list[Record]:
    """The messages on one partition of intake's topic, at offsets 0, 1, …"""
    return [
        Record(INTAKE, 0, offset, message.key, message.value, message.headers)
        for offset, message in enumerate(messages)
    ]


def intake_stream(patient: UUID, events: int) -> list[Message]:
    return [m for m in NETWORK.patient(patient, events) if m.producer == "intake"]


def event_id(message: Message) -> UUID:
    return UUID(json.loads(message.value)["event_id"])


def sequence(app: Acting, patient: UUID) -> int | None:
    positions: StreamPositions = app.recorder  # type: ignore[assignment]
    found = positions.stream_positions([("intake", str(patient))]).get(("intake", str(patient)))
    return None if found is None else found.sequence


def test_messages_without_effect_cost_one_commit_and_their_streams_follow_them(
    app: Acting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = uuid4(), uuid4()
    a, b = intake_stream(first, 4), intake_stream(second, 3)
    records = on_partition([a[0], b[0], a[1], a[2], b[1], b[2], a[3]])
    commits: list[Tracking] = []
    insert_tracking = app.process_recorder.insert_tracking

    def counted(tracking: Tracking) -> None:
        commits.append(tracking)
        insert_tracking(tracking)

    monkeypatch.setattr(app.process_recorder, "insert_tracking", counted)
    asyncio.run(consumer(app, tmp_path).take(records))
    assert app.process_recorder.max_tracking_id(f"{INTAKE}:0") == len(records) - 1
    assert (sequence(app, first), sequence(app, second)) == (4, 3)
    assert len(commits) == 1  # seven messages, no effect: one transaction
    assert app.effects() == 0


def test_an_effect_records_what_was_deferred_before_it_so_a_crash_loses_no_position(
    app: Acting, tmp_path: Path
) -> None:
    ignored, acted = uuid4(), uuid4()
    b, a = intake_stream(ignored, 3), intake_stream(acted, 1)
    records = on_partition([b[0], b[1], a[0], b[2]])
    app.acts_on.add(acted)
    app.crashes_on.add(event_id(b[2]))
    path = consumer(app, tmp_path)
    with pytest.raises(Crash):
        asyncio.run(path.take(records))
    if isinstance(group_commit.grouping(app.factory).datastore, SQLiteDatastore):
        # on SQLite the batch is one group: the crash undid it whole (`test_group_commit`)
        assert app.process_recorder.max_tracking_id(f"{INTAKE}:0") is None
        assert (sequence(app, ignored), sequence(app, acted)) == (None, None)
        assert app.effects() == 0
    else:
        # the effect's transaction carried the two messages deferred before it
        assert app.process_recorder.max_tracking_id(f"{INTAKE}:0") == 2
        assert (sequence(app, ignored), sequence(app, acted)) == (2, 1)
        assert app.effects() == 1

    app.crashes_on.clear()  # the batch comes again (its offsets were never committed)
    asyncio.run(path.take(records))
    assert app.process_recorder.max_tracking_id(f"{INTAKE}:0") == 3
    assert (sequence(app, ignored), sequence(app, acted)) == (3, 1)
    assert app.effects() == 1  # nothing happened twice

    asyncio.run(path.take(records))  # and once more, after it was all tracked
    assert app.process_recorder.max_tracking_id(f"{INTAKE}:0") == 3
    assert app.effects() == 1
