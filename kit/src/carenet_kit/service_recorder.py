"""A service's process recorder: what goes into the ONE transaction of a command's events.

The library's process recorder writes a command's events (its outbox messages among them) with
the tracking record of the message that caused them. A service's recorder adds, in that same
transaction, the position of each inbound stream the message moves (`consumed_streams`) and
the subject keys the command made (`keystore.NewKey`, passed to `ServiceApplication.commit`
and on to the recorder as the keyword `new_keys`). A crash leaves all of it or none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, ProcessRecorder, StoredEvent
from eventsourcing.popo import POPOFactory
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteFactory, SQLiteProcessRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow

from carenet_kit.consumed_streams import (
    POPOStreamProcessRecorder,
    PostgresStreamPositions,
    SQLiteStreamPositions,
)
from carenet_kit.keystore import NewKey


def _record_new_keys(cursor: Any, kwargs: Mapping[str, Any]) -> None:
    new_keys: Sequence[NewKey] = kwargs.get("new_keys", ())
    for new_key in new_keys:
        new_key.record(cursor)


class SQLiteServiceRecorder(SQLiteStreamPositions, SQLiteProcessRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        _record_new_keys(c, kwargs)
        return notification_ids


class PostgresServiceRecorder(PostgresStreamPositions, PostgresProcessRecorder):
    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        _record_new_keys(curs, kwargs)


class POPOServiceRecorder(POPOStreamProcessRecorder):
    """In memory, for unit tests: a key that conflicts is refused before anything changes."""

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        _record_new_keys(None, kwargs)
        return super()._update_table(stored_events, **kwargs)


def service_process_recorder(factory: InfrastructureFactory[Any]) -> ProcessRecorder:
    """The process recorder of the factory's store, as a service's application uses it."""
    if isinstance(factory, POPOFactory):
        return POPOServiceRecorder()
    recorder = (
        SQLiteServiceRecorder if isinstance(factory, SQLiteFactory) else PostgresServiceRecorder
    )
    factory.env[factory.PROCESS_RECORDER_TOPIC] = get_topic(recorder)
    return factory.process_recorder()
