"""SQL tables of views in a service's own database: their declaration and the store they live in.

A `Table` is one kind of view (a dataclass or pydantic model), one row each: its key, the
insertion order (`seq`), the columns queries filter on (as text: dates in ISO form, so text
order is date order) and the view as pydantic's JSON. A `Store` is the service's own database
with its dialect's names and placeholders: the SQLite file, the service's PostgreSQL schema, or
a private SQLite database in memory. `carenet_kit.read_model_tables` keeps read models in them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar
from uuid import uuid4

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from pydantic import TypeAdapter

from carenet_kit.application import ServiceApplication

V = TypeVar("V")


def as_text(value: object) -> str | None:
    """A key or column value as stored: dates in ISO form; a tuple's parts joined by '/'."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return "/".join(str(as_text(part)) for part in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Table(Generic[V]):
    """One kind of view, one row each, found by `key` and by the indexed `columns`."""

    name: str
    view: type[V]
    key: Callable[[V], object]
    columns: Mapping[str, Callable[[V], object]]
    adapter: TypeAdapter[V] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "adapter", TypeAdapter(self.view))

    def encode(self, view: V) -> str:
        return self.adapter.dump_json(view).decode()

    def decode(self, body: str) -> V:
        return self.adapter.validate_json(body)

    def create(self, qualified: Callable[[str], str]) -> list[str]:
        columns = "".join(f", {c} TEXT" for c in self.columns)
        table = qualified(self.name)
        return [
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, seq BIGINT NOT NULL"
            f"{columns}, body TEXT NOT NULL)",
            *(
                f"CREATE INDEX IF NOT EXISTS {self.name}_by_{c} ON {table} ({c}, seq)"
                for c in self.columns
            ),
        ]

    def upsert(self, qualified: Callable[[str], str]) -> str:
        names = ["key", "seq", *self.columns, "body"]
        updates = ", ".join(f"{c} = excluded.{c}" for c in [*self.columns, "body"])
        return (
            f"INSERT INTO {qualified(self.name)} ({', '.join(names)}) "  # noqa: S608 - declared
            f"VALUES ({', '.join('?' * len(names))}) ON CONFLICT (key) DO UPDATE SET {updates}"
        )

    def row(self, view: V, seq: int) -> list[object]:
        columns = [as_text(column(view)) for column in self.columns.values()]
        return [as_text(self.key(view)), seq, *columns, self.encode(view)]


def equal_columns(table: Table[Any], equal: Mapping[str, object]) -> tuple[str, list[object]]:
    """The SQL condition that the columns equal the values given (those given as None: any)."""
    wanted = {c: as_text(v) for c, v in equal.items() if v is not None}
    unknown = set(wanted) - set(table.columns)
    if unknown:
        raise ValueError(f"{table.name} has no indexed columns {sorted(unknown)}")
    return " AND ".join(f"{c} = ?" for c in wanted) or "1 = 1", list(wanted.values())


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[object] = ()) -> None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    @property
    def rowcount(self) -> int: ...


class _SQLiteCursor:
    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self.cursor.execute(sql, list(params))

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self.cursor.sqlite_cursor.rowcount)


class _PostgresCursor(_SQLiteCursor):
    """psycopg's placeholders are %s; the store's rows are dicts."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self.cursor.execute(sql.replace("?", "%s"), list(params))

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self.cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self.cursor.rowcount)


class Store:
    """Transactions on the service's own database, with the dialect's names and placeholders."""

    def __init__(self, app: ServiceApplication, *, private: bool = False) -> None:
        datastore = None if private else getattr(app.process_recorder, "datastore", None)
        self.private = datastore is None
        if datastore is None:  # the in-memory store: a database of the read model's own
            datastore = SQLiteDatastore(f"file:read-model-{uuid4()}?mode=memory&cache=shared")
        self.datastore: SQLiteDatastore | PostgresDatastore = datastore
        self.schema = datastore.schema if isinstance(datastore, PostgresDatastore) else None

    def qualified(self, name: str) -> str:
        return name if self.schema is None else f'"{self.schema}"."{name}"'

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        if isinstance(self.datastore, PostgresDatastore):
            with self.datastore.transaction(commit=commit) as curs:
                yield _PostgresCursor(curs)
        else:
            with self.datastore.transaction(commit=commit) as c:
                yield _SQLiteCursor(c)

    def close(self) -> None:
        if self.private:
            self.datastore.close()
