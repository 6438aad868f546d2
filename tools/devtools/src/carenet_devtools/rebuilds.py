"""For tests of crashes and restarts: is a service's read model what a rebuild from its store
gives?

A read model's tables are a function of the service's events up to the position stored with
them, whatever happened to the process that wrote them. `diverging_tables` rebuilds the read
model from position 0 of the store into tables of its own, in memory, up to that position, and
names the tables that differ; `read_model_diverges` does it for a stopped service, opened in
this process with the settings it ran with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import Any
from unittest import mock

from carenet_kit.application import ServiceApplication
from carenet_kit.read_model_tables import SqlReadModel


def events_up_to(app: ServiceApplication, up_to: int) -> Iterator[list[tuple[int, Any]]]:
    """The store's events from position 0 up to a notification id, in batches."""
    position = 0
    while notifications := app.process_recorder.select_notifications(
        position, 500, stop=up_to, inclusive_of_start=False
    ):
        yield [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
        position = notifications[-1].id


def diverging_tables(held: SqlReadModel) -> list[str]:
    """The read model's tables that differ from a rebuild up to their stored position."""
    from_zero = type(held)(held.app, private=True)
    for events in events_up_to(held.app, held.position()):
        from_zero.apply_batch(events)
    return [t.name for t in held.tables if held.where(t) != from_zero.where(t)]


def read_model_diverges(service: str, env: Mapping[str, str]) -> list[str]:
    """`diverging_tables` of a stopped service's read model, opened from its settings (`env`,
    as its process had them)."""
    with mock.patch.dict(os.environ, env):
        started = import_module(f"carenet_{service}.main").bootstrap()
    try:
        assert isinstance(started.projection, SqlReadModel), service
        return diverging_tables(started.projection)
    finally:
        started.application.close()
