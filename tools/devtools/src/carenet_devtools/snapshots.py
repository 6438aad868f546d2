"""For tests of snapshotting: where loading an aggregate starts reading its events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import BaseAggregate


def load_reading_from(app: Application[UUID], aggregate_id: UUID) -> tuple[Any, int | None]:
    """The aggregate loaded afresh (not from a cache), and the version after which its events
    were read: that of the snapshot it started from, None if it replayed its whole history."""
    event_store = app.repository.event_store
    read_after: list[int | None] = []
    original_get = event_store.get

    def get(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if originator_id == aggregate_id:
            read_after.append(kwargs.get("gt"))
        return original_get(originator_id, *args, **kwargs)

    event_store.get = get  # type: ignore[method-assign]
    try:
        aggregate: BaseAggregate[UUID] = app.repository.get(aggregate_id)
    finally:
        del event_store.get
    return aggregate, read_after[0]
