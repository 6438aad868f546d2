"""The history index takes a whole fetch (many partitions) in one transaction, and skips, partition
by partition, what it has tracked already: nothing is indexed twice, nothing is left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord
from eventsourcing.persistence import InfrastructureFactory, IntegrityError

from bench.synthetic import SyntheticNetwork
from carenet_audit.projection import HistoryIndex
from carenet_contracts import parse_message
from carenet_kit.admission import StreamPosition, StreamTracking
from carenet_kit.batches import Delivered, PartitionBatch

INTAKE, ROUTING, CASEWORK = "carenet.intake.v1", "carenet.routing.v1", "carenet.casework.v1"


@pytest.fixture(params=["sqlite", "postgres"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryIndex]:
    if request.param == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "s")}
    else:
        database = request.getfixturevalue("postgres_database")
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **database}
    factory = InfrastructureFactory.construct(env)
    yield HistoryIndex.construct(factory)
    factory.close()


def partition(topic: str, values: list[Any], up_to: int) -> PartitionBatch:
    """Offsets 0 … `up_to` of a partition holding one patient's messages of one producer."""
    delivered = [
        Delivered(
            ConsumerRecord(topic, 0, offset, 0, 0, m.key, m.value, None, 0, 0, tuple(m.headers)),
            parse_message(m.value),
        )
        for offset, m in enumerate(values[: up_to + 1])
    ]
    return PartitionBatch(delivered, StreamTracking(f"{topic}:0", up_to))


def test_a_fetch_is_one_write_that_skips_what_each_partition_has_tracked(
    index: HistoryIndex,
) -> None:
    messages = list(SyntheticNetwork().patient(uuid4(), 3))
    intake = [m for m in messages if m.producer == "intake"]
    routing = [m for m in messages if m.producer == "routing"]

    index.write([partition(INTAKE, intake, 1), partition(ROUTING, routing, 0)])
    assert index.count() == 3
    # the next fetch: intake's partition again from 0 with one more, routing's tracked already
    index.write([partition(INTAKE, intake, 2), partition(ROUTING, routing, 0)])
    assert index.count() == 4
    assert (index.max_tracking_id(f"{INTAKE}:0"), index.max_tracking_id(f"{ROUTING}:0")) == (2, 0)
    # one partition ahead, the other not: only the one behind is written
    index.write([partition(INTAKE, intake, 2), partition(ROUTING, routing, 2)])
    assert index.count() == 6
    assert index.max_tracking_id(f"{ROUTING}:0") == 2


def test_a_fetch_is_written_whole_or_not_at_all(index: HistoryIndex) -> None:
    casework = [m for m in SyntheticNetwork().patient(uuid4(), 2) if m.producer == "casework"]
    stream = StreamPosition("routing", str(uuid4()), 2, "e2", "d2")
    index.write([PartitionBatch([], StreamTracking(f"{ROUTING}:0", 0, (stream,)))])
    behind = StreamPosition("routing", stream.patient_id, 1, "e1", "d1")  # another got further
    with pytest.raises(IntegrityError):
        index.write(
            [
                partition(CASEWORK, casework, 1),
                PartitionBatch([], StreamTracking(f"{ROUTING}:0", 1, (behind,))),
            ]
        )
    assert index.count() == 0
    assert index.max_tracking_id(f"{CASEWORK}:0") is None
