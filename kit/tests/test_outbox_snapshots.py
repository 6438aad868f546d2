"""A patient's outbox stream is loaded from a snapshot, so a commit does not read the patient's
whole history: the stream takes a message for every event published and every read logged.

Real stores (SQLite, PostgreSQL). Negative control: with `PublishedStream` left out of
`ServiceApplication.snapshotting_intervals`, there is no snapshot and a load reads every event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, DomainEventProtocol

from bench.synthetic import SyntheticNetwork
from carenet_contracts import Producer
from carenet_kit.application import ServiceApplication
from carenet_kit.outbox import Cause, Outgoing, PublishedStream

PAYLOAD = SyntheticNetwork().payloads["intake"][0]
MESSAGES = 45


class Noted(Aggregate):
    """Something about a patient that is published."""

    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id


def published(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    if isinstance(domain_event, Noted.Created):
        return Outgoing(domain_event.patient_id, PAYLOAD, datetime.now(UTC))  # type: ignore[attr-defined]
    return None


class Publishing(ServiceApplication):
    producer: ClassVar[Producer] = "intake"


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Publishing]:
    env: dict[str, Any]
    if request.param == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "s")}
    else:
        database = request.getfixturevalue("postgres_database")
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **database}
    application = Publishing(env, outbound=published)
    yield application
    application.close()


def test_a_stream_loads_from_its_latest_snapshot_and_what_followed(app: Publishing) -> None:
    patient = uuid4()
    for _ in range(MESSAGES):
        app.commit(Noted(patient), cause=Cause.request())
    stream_id = PublishedStream.create_id("intake", patient)

    snapshots = list(app.snapshots.get(stream_id, desc=True, limit=1)) if app.snapshots else []
    assert snapshots, "no snapshot of the patient's outbox stream"
    since = list(app.events.get(stream_id, gt=snapshots[0].originator_version))
    assert len(since) < 20  # what a load reads besides the snapshot, however long the history

    loaded: PublishedStream = app.repository.get(stream_id)
    last: Any = next(iter(app.events.get(stream_id, desc=True, limit=1)))
    assert (loaded.sequence, loaded.last_hash) == (MESSAGES, last.digest)
