"""A service's own read model, kept current by following its notification log, and kept across
restarts as a snapshot in the service's own database.

The store is the truth, and a read model is only a faster way to answer queries. It lives in
memory (so memory still grows with the service's own data); what survives a restart is a
snapshot of it: the read model serialised with the notification id of the last event it
holds, one row (`read_model_snapshots`) in the service's SQLite file or PostgreSQL schema. At
start the runner loads that row and applies only the events recorded after its position.

Why a snapshot is exact: the runner is the only writer of the read model, and it takes the
snapshot between two batches, after applying every event up to its position and nothing
after. State and position go into one row in one statement, so no snapshot is torn. A crash
between snapshots loses nothing: the next start applies again, from the store, the events
recorded since the last snapshot. One is taken every `every` events or `seconds` seconds
(whichever comes first, if anything is new), and at shutdown.

The serialisation is pydantic's, typed, over the read model's dataclasses (zlib-compressed
JSON): no code is run on loading, unlike pickle, so a forged row in the store can do no more
than a forged event. It keeps types (UUID, datetime, enums, `defaultdict` where annotated so),
not object identity: a read model must be a tree of values, the same object never reachable
twice (refer to another entry by its id). A snapshot is used only if its fingerprint matches
the running code's: the read model's JSON schema and the source of the modules that define
it. Any change there (new field, changed `apply`) ignores the old snapshot and rebuilds from 0,
as does a row that cannot be read; logic the read model borrows from other modules is not in
the fingerprint, so a change there that changes what it holds must touch the read model's
module too. Replicas share the row, last writer wins: every row is exact for its position.

Not done (the alternative): SQL tables per read model, updated in the transaction of the
position, as the audit service's history index is (`carenet_audit.projection`). Memory would
no longer grow with the data and start-up would read nothing, but each read model's dict
updates and queries would be rewritten as SQL for SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import time
import zlib
from dataclasses import dataclass, fields
from typing import Any, Protocol
from uuid import UUID

import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier
from pydantic import TypeAdapter

from carenet_kit import metrics
from carenet_kit.application import ServiceApplication
from carenet_kit.lease import creating_tables

log = structlog.get_logger()

TABLE = "read_model_snapshots"
CODEC = "pydantic-json+zlib/1"
"""Part of the fingerprint: a new encoding of snapshots ignores the old ones."""


class Projection(Protocol):
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None: ...


@dataclass(frozen=True)
class Snapshot:
    fingerprint: str
    position: int
    """The notification id of the last event the state holds."""
    state: bytes


class SnapshotTable(Protocol):
    def load(self, name: str) -> Snapshot | None: ...

    def save(self, name: str, snapshot: Snapshot) -> None:
        """Replace the read model's snapshot with this one, in one statement."""


class SQLiteSnapshots:
    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.datastore = datastore
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, "
                "fingerprint TEXT NOT NULL, position INTEGER NOT NULL, state BLOB NOT NULL)"
            )

    def load(self, name: str) -> Snapshot | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT fingerprint, position, state FROM {TABLE} WHERE name = ?", [name])  # noqa: S608
            row = c.fetchone()
        return None if row is None else Snapshot(row[0], int(row[1]), bytes(row[2]))

    def save(self, name: str, snapshot: Snapshot) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608 - constant
                [name, snapshot.fingerprint, snapshot.position, snapshot.state],
            )


class PostgresSnapshots:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(TABLE))
        self._select = SQL("SELECT fingerprint, position, state FROM {0} WHERE name = %s").format(
            table
        )
        self._upsert = SQL(
            "INSERT INTO {0} VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, position = excluded.position, "
            "state = excluded.state"
        ).format(table)
        with datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} (name text PRIMARY KEY, "
                    "fingerprint text NOT NULL, position bigint NOT NULL, state bytea NOT NULL)"
                ).format(table)
            )

    def load(self, name: str) -> Snapshot | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select, [name])
            row = curs.fetchone()
        if row is None:
            return None
        return Snapshot(row["fingerprint"], int(row["position"]), bytes(row["state"]))

    def save(self, name: str, snapshot: Snapshot) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._upsert, [name, snapshot.fingerprint, snapshot.position, snapshot.state]
            )


def snapshot_table(app: ServiceApplication) -> SnapshotTable | None:
    """The table in the application's own store; None in memory (POPO), where nothing lasts."""
    datastore = getattr(app.process_recorder, "datastore", None)
    if isinstance(datastore, SQLiteDatastore):
        return SQLiteSnapshots(datastore)
    if isinstance(datastore, PostgresDatastore):
        with creating_tables(app.env):  # two replicas starting together create it once
            return PostgresSnapshots(datastore)
    return None


class ReadModelCodec:
    """The read model's state as bytes and back, and the fingerprint of its shape and code."""

    def __init__(self, model_type: type[Any]) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(model_type)
        digest = hashlib.sha256(CODEC.encode())
        digest.update(json.dumps(self.adapter.json_schema(), sort_keys=True).encode())
        modules = {inspect.getmodule(c) for c in model_type.__mro__ if c is not object}
        for module in sorted(modules, key=lambda m: getattr(m, "__name__", "")):
            digest.update(inspect.getsource(module).encode() if module else b"")
        self.fingerprint = digest.hexdigest()

    def encode(self, model: Projection) -> bytes:
        return zlib.compress(self.adapter.dump_json(model), 1)

    def decode(self, state: bytes) -> Any:
        return self.adapter.validate_json(zlib.decompress(state))


@dataclass(frozen=True)
class SnapshotSchedule:
    every: int
    """Events applied since the last snapshot..."""
    seconds: float
    """...or seconds since it, if any event was applied: at most this much to re-apply."""


class ProjectionRunner:
    """Applies the service's notifications to its read model, in order, on one thread at a
    time; with a `schedule`, starts from the last snapshot and takes new ones."""

    def __init__(
        self,
        app: ServiceApplication,
        projection: Projection,
        poll_seconds: float,
        schedule: SnapshotSchedule | None = None,
    ) -> None:
        self.app = app
        self.projection = projection
        self.poll_seconds = poll_seconds
        self.position = 0
        self.caught_up = asyncio.Event()
        self.schedule = schedule
        self._table = snapshot_table(app) if schedule else None
        self._codec = ReadModelCodec(type(projection)) if self._table else None
        self._name = type(projection).__qualname__
        self._restored = False
        self._unsaved = 0
        """Events applied since the last snapshot (or since the start)."""
        self._snapshot_at = time.monotonic()

    async def run(self) -> None:
        if not self._restored:
            self._adopt(await asyncio.to_thread(self._load))
        try:
            while True:
                events = await asyncio.to_thread(self._read_after, self.position)
                self._apply(events)
                if self._snapshot_due():
                    # Nothing applies events while the snapshot is taken: the runner waits.
                    await asyncio.to_thread(self.take_snapshot)
                if not events:
                    self.caught_up.set()
                    await asyncio.sleep(self.poll_seconds)
        except asyncio.CancelledError:
            if self._unsaved:
                self.take_snapshot()  # at shutdown: on the loop, which has nothing else to do
            raise

    def catch_up(self) -> int:
        """Apply everything recorded so far, on the caller's thread (simulations, tests);
        the number of events read from the store."""
        if not self._restored:
            self._adopt(self._load())
        applied = 0
        while events := self._read_after(self.position):
            self._apply(events)
            applied += len(events)
            if self._snapshot_due():
                self.take_snapshot()
        return applied

    def take_snapshot(self) -> None:
        """Store the read model with its position (only between two batches of `_apply`)."""
        if self._table is None or self._codec is None:
            return
        position = self.position
        state = self._codec.encode(self.projection)
        self._table.save(self._name, Snapshot(self._codec.fingerprint, position, state))
        self._unsaved, self._snapshot_at = 0, time.monotonic()
        log.info("read model snapshot taken", read_model=self._name, position=position)

    def _load(self) -> tuple[int, Any] | None:
        """The stored read model and its position, if there is one the running code can use."""
        if self._table is None or self._codec is None:
            return None
        snapshot = self._table.load(self._name)
        if snapshot is None:
            return None
        if snapshot.fingerprint != self._codec.fingerprint:
            log.warning("read model changed: rebuilding it from the store", read_model=self._name)
            return None
        try:
            return snapshot.position, self._codec.decode(snapshot.state)
        except Exception as error:  # any unreadable row means a rebuild
            # The type only: a validation error's message quotes the data it refused.
            log.warning(
                "read model snapshot unreadable: rebuilding it from the store",
                read_model=self._name,
                error=type(error).__name__,
            )
            return None

    def _adopt(self, loaded: tuple[int, Any] | None) -> None:
        """Take the loaded state into the live read model, which the routes already hold,
        all fields at once (no await between them)."""
        self._restored = True
        if loaded is None:
            return
        position, state = loaded
        for field in fields(state):
            setattr(self.projection, field.name, getattr(state, field.name))
        self.position = position
        log.info("read model restored from snapshot", read_model=self._name, position=position)

    def _apply(self, events: list[tuple[int, Any]]) -> None:
        for notification_id, domain_event in events:
            self.projection.apply(domain_event)
            self.position = notification_id
        self._unsaved += len(events)
        metrics.READ_MODEL_EVENTS_APPLIED.labels(self._name).inc(len(events))

    def _snapshot_due(self) -> bool:
        if self.schedule is None or not self._unsaved:
            return False
        return (
            self._unsaved >= self.schedule.every
            or time.monotonic() - self._snapshot_at >= self.schedule.seconds
        )

    def _read_after(self, position: int) -> list[tuple[int, Any]]:
        notifications = self.app.process_recorder.select_notifications(
            position, 500, inclusive_of_start=False
        )
        return [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
