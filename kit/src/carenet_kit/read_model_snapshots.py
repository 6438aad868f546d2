"""Where read models' snapshots are kept: one row per read model in the service's own store.

A row holds the read model serialised with the notification id of the last event it holds
(`position`), and a fingerprint of the code that wrote it. The serialisation is pydantic's,
typed, over the read model's dataclasses (zlib-compressed JSON): no code is run on loading,
unlike pickle, so a forged row in the store can do no more than a forged event. It keeps types
(UUID, datetime, enums, `defaultdict` where annotated so), not object identity: a read model
must be a tree of values, the same object never reachable twice (refer to another entry by its
id). A snapshot is used only if its fingerprint matches the running code's: the read model's
JSON schema and the source of the modules that define it. Any change there (new field, changed
`apply`) ignores the old snapshot, as does a row that cannot be read; logic the read model
borrows from other modules is not in the fingerprint, so a change there that changes what it
holds must touch the read model's module too. Replicas share the row, last writer wins: every
row is exact for its position.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier
from pydantic import TypeAdapter

from carenet_kit.application import ServiceApplication
from carenet_kit.lease import creating_tables

TABLE = "read_model_snapshots"
CODEC = "pydantic-json+zlib/1"
"""Part of the fingerprint: a new encoding of snapshots ignores the old ones."""


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

    def encode(self, model: object) -> bytes:
        return zlib.compress(self.adapter.dump_json(model), 1)

    def decode(self, state: bytes) -> Any:
        return self.adapter.validate_json(zlib.decompress(state))


@dataclass(frozen=True)
class SnapshotSchedule:
    every: int
    """Events applied since the last snapshot..."""
    seconds: float
    """...or seconds since it, if any event was applied: at most this much to re-apply."""
