"""A service's query read model as SQL tables in its own store, following its notification log.

A service declares its tables (`carenet_kit.sql_tables.Table`: a view dataclass, its key, the
columns its queries filter on), the update each event makes (`SqlReadModel.apply`, on
`Changes`) and its queries (`get`, `where`, `select`); the kit keeps the tables in the service's
own database (the SQLite file, or the service's PostgreSQL schema; a private in-memory SQLite
database for the library's in-memory store, where nothing lasts) and follows the log into them
(`TableFollower`).

Each table row holds one view as JSON (pydantic's, typed: UUID, date, datetime, enums come back
as they went in), its key, the insertion order (`seq`: the notification id that first wrote it)
and the indexed columns, as text (dates in ISO form, so text order is date order). A batch of
events is applied in ONE transaction with the read model's position (the notification id of
the last event applied), so the tables are never ahead of or behind their position: a crash
loses the whole batch, and the next start applies it again. The transaction first locks the
position's row, and applies only the events after the position it finds, so replicas sharing
the store never apply an event twice. Memory holds one batch's views at most (`Changes`).

A start reads only the events recorded after the stored position. The position row also holds
a fingerprint of the read model's code (its modules' source, its tables and their views' JSON
schemas): a start with another fingerprint drops the tables and rebuilds them from position 0;
a replica still running the old code then stops on its next batch (`StaleReadModel`) and is
restarted by its supervisor.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic
from pydantic import TypeAdapter

from carenet_kit import metrics
from carenet_kit.application import ServiceApplication
from carenet_kit.lease import creating_tables
from carenet_kit.sql_tables import Cursor, Store, Table, as_text, equal_columns
from carenet_kit.threads import in_thread

log = structlog.get_logger()

V = TypeVar("V")
POSITIONS = "read_model_positions"
BATCH = 500
"""Notifications applied per transaction."""


class Changes:
    """One batch's views, read from the tables as the events need them and written back, all in
    the batch's transaction. A view changed by an event must be taken with `change` or `add`."""

    def __init__(self, cursor: Cursor, qualified: Callable[[str], str]) -> None:
        self.cursor = cursor
        self.qualified = qualified
        self.position = 0
        """The notification id of the event being applied: a new view's `seq`."""
        self._views: dict[tuple[str, str | None], tuple[Table[Any], Any, int]] = {}
        self._changed: set[tuple[str, str | None]] = set()
        self._removed: set[tuple[str, str | None]] = set()

    def find(self, table: Table[V], key: object) -> V | None:
        """The view, if there is one (to read only: a change must go through `change`)."""
        found = (table.name, as_text(key))
        if found not in self._views:
            self.cursor.execute(
                f"SELECT body FROM {self.qualified(table.name)} WHERE key = ?",  # noqa: S608
                [found[1]],
            )
            rows = self.cursor.fetchall()
            self._views[found] = (table, table.decode(rows[0][0]) if rows else None, 0)
        view: V | None = self._views[found][1]
        return view

    def where(self, table: Table[V], **equal: object) -> list[V]:
        """The views whose columns equal the values given, with the batch's changes so far (to
        read only: a change must go through `change`)."""
        self.write()  # what the batch changed so far, in its transaction
        condition, params = equal_columns(table, equal)
        self.cursor.execute(
            f"SELECT key, body FROM {self.qualified(table.name)} WHERE {condition} ORDER BY seq",  # noqa: S608
            params,
        )
        views = []
        for key, body in self.cursor.fetchall():
            if (table.name, key) not in self._views:
                self._views[(table.name, key)] = (table, table.decode(body), 0)
            views.append(self._views[(table.name, key)][1])
        return views

    def change(self, table: Table[V], key: object) -> V:
        """The view, to change: it is written back with the batch. It must exist."""
        view = self.find(table, key)
        if view is None:
            raise LookupError(f"no {table.name} row for an event that changes one")
        self._changed.add((table.name, as_text(key)))
        return view

    def add(self, table: Table[V], view: V) -> V:
        """A new view, or one that replaces the view of the same key (keeping its place)."""
        key = (table.name, as_text(table.key(view)))
        self._views[key] = (table, view, self.position)
        self._changed.add(key)
        return view

    def remove(self, table: Table[Any], key: object) -> None:
        """No view of this key any more (if there was one); one added later takes a new place."""
        removed = (table.name, as_text(key))
        self._views[removed] = (table, None, 0)
        self._changed.discard(removed)
        self._removed.add(removed)

    def write(self) -> None:
        for name, removed in self._removed:
            self.cursor.execute(f"DELETE FROM {self.qualified(name)} WHERE key = ?", [removed])  # noqa: S608
        for changed in self._changed:
            table, view, seq = self._views[changed]
            self.cursor.execute(table.upsert(self.qualified), table.row(view, seq))


class StaleReadModel(RuntimeError):
    """The tables were rebuilt by another version of the read model's code."""


class SqlReadModel(ABC):
    """A read model in SQL tables: subclasses declare `tables`, `apply` and their queries."""

    tables: ClassVar[Sequence[Table[Any]]]
    events: ClassVar[Sequence[type]] = ()
    """The event classes `apply` needs (all when empty): the others are not read."""

    def __init__(self, app: ServiceApplication, *, private: bool = False) -> None:
        """The tables in the application's store; with `private`, in a database of their own in
        memory (a rebuild from 0 to compare with the stored one)."""
        self.app = app
        self.name = type(self).__qualname__
        self.store = Store(app, private=private)
        self.fingerprint = self._fingerprint()
        with creating_tables(app.env):  # two replicas starting together: one at a time
            self._open()

    @abstractmethod
    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None: ...

    def get(self, table: Table[V], key: object) -> V | None:
        found = self.select(table, "key = ?", [as_text(key)])
        return found[0] if found else None

    def where(self, table: Table[V], **equal: object) -> list[V]:
        """The views whose columns equal the values given (those given as None: any)."""
        return self.select(table, *equal_columns(table, equal))

    def select(self, table: Table[V], condition: str, params: Sequence[object]) -> list[V]:
        """The views meeting `condition` (SQL on the table's columns, `?` placeholders), in
        the order they were first written. Parameters are compared as stored (`as_text`)."""
        query = (
            f"SELECT body FROM {self.store.qualified(table.name)} WHERE {condition} ORDER BY seq"  # noqa: S608
        )
        with self.store.transaction(commit=False) as cursor:
            cursor.execute(query, [as_text(param) for param in params])
            return [table.decode(row[0]) for row in cursor.fetchall()]

    def position(self) -> int:
        """The notification id of the last event the tables hold."""
        with self.store.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT position FROM {self._positions} WHERE name = ?", [self.name])  # noqa: S608
            return int(cursor.fetchall()[0][0])

    def apply_batch(self, events: Sequence[tuple[int, Any]]) -> int:
        """Apply the events after the stored position, and store the new position, in one
        transaction; the position after it."""
        with self.store.transaction(commit=True) as cursor:
            cursor.execute(  # a write first: takes the lock (SQLite's, or the row's)
                f"UPDATE {self._positions} SET position = position "  # noqa: S608
                "WHERE name = ? AND fingerprint = ?",
                [self.name, self.fingerprint],
            )
            if cursor.rowcount != 1:
                raise StaleReadModel(self.name)
            cursor.execute(f"SELECT position FROM {self._positions} WHERE name = ?", [self.name])  # noqa: S608
            position = int(cursor.fetchall()[0][0])
            changes = Changes(cursor, self.store.qualified)
            applied = 0
            for notification_id, domain_event in events:
                if notification_id > position:
                    changes.position = position = notification_id
                    self.apply(domain_event, changes)
                    applied += 1
            changes.write()
            self._store_position(cursor, position)
        metrics.READ_MODEL_EVENTS_APPLIED.labels(self.name).inc(applied)
        return position

    def _store_position(self, cursor: Cursor, position: int) -> None:
        cursor.execute(
            f"UPDATE {self._positions} SET position = ? WHERE name = ?",  # noqa: S608
            [position, self.name],
        )

    @property
    def _positions(self) -> str:
        return self.store.qualified(POSITIONS)

    def _open(self) -> None:
        """Create the tables; rebuild them if they were written by other code."""
        with self.store.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._positions} (name TEXT PRIMARY KEY, "
                "fingerprint TEXT NOT NULL, position BIGINT NOT NULL)"
            )
            cursor.execute(f"SELECT fingerprint FROM {self._positions} WHERE name = ?", [self.name])  # noqa: S608
            rows = cursor.fetchall()
            if rows and rows[0][0] != self.fingerprint:
                log.warning(
                    "read model changed: rebuilding it from the store", read_model=self.name
                )
                for table in self.tables:
                    cursor.execute(f"DROP TABLE IF EXISTS {self.store.qualified(table.name)}")
            for table in self.tables:
                for statement in table.create(self.store.qualified):
                    cursor.execute(statement)
            cursor.execute(
                f"INSERT INTO {self._positions} VALUES (?, ?, 0) ON CONFLICT (name) DO UPDATE "  # noqa: S608
                "SET fingerprint = excluded.fingerprint, position = CASE WHEN "
                f"{self._positions}.fingerprint = excluded.fingerprint "
                f"THEN {self._positions}.position ELSE 0 END",
                [self.name, self.fingerprint],
            )

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        modules = {inspect.getmodule(c) for c in type(self).__mro__ if c is not object}
        for module in sorted(modules, key=lambda m: getattr(m, "__name__", "")):
            digest.update(inspect.getsource(module).encode() if module else b"")
        for table in self.tables:
            schema = TypeAdapter(table.view).json_schema()
            digest.update(json.dumps([table.name, list(table.columns), schema]).encode())
        return digest.hexdigest()


M = TypeVar("M", bound=SqlReadModel)


class TableFollower(Generic[M]):
    """Follows the service's log into a `SqlReadModel`: a batch at a time, each in one
    transaction with its position; as a background task (`run`) or on the caller's thread
    (`catch_up`). Nothing is held between batches."""

    def __init__(self, read_model: M, poll_seconds: float = 0.0) -> None:
        self.app = read_model.app
        self.read_model = read_model
        self.poll_seconds = poll_seconds
        self.position = read_model.position()
        self.caught_up = asyncio.Event()
        self._topics = [get_topic(cls) for cls in read_model.events]

    def step(self) -> int:
        """Read and apply the next batch: the number of events read from the store."""
        notifications = self.app.process_recorder.select_notifications(
            self.position, BATCH, topics=self._topics, inclusive_of_start=False
        )
        if not notifications:
            return 0
        events = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        self.position = max(self.read_model.apply_batch(events), events[-1][0])
        return len(events)

    def catch_up(self) -> int:
        """Apply everything recorded so far; the number of events read from the store."""
        read = 0
        while batch := self.step():
            read += batch
        return read

    async def run(self) -> None:
        while True:
            if not await in_thread(self.step):
                self.caught_up.set()
                await asyncio.sleep(self.poll_seconds)
