"""Where a consumer keeps the position of each (producer, patient) stream it takes messages from.

One row per stream in a table of the consumer's own store, written by the recorder's
`_insert_tracking`: whatever records a `StreamTracking` (a command's events, a message the
policy ignores, a batch of a read model) moves its streams in the same transaction, so the
effect, the Kafka position and the stream positions never disagree. This is how the
`eventsourcing` library keeps its own single-row tracking: an upsert that only moves forward
(`WHERE sequence < new`), and a conflict (another replica got there first) is an
`IntegrityError` that rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar, Protocol

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.popo import POPOProcessRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from carenet_kit.admission import Stream, StreamPosition, StreamTracking

COLUMNS = "producer, patient_id, sequence, event_id, digest"


class StreamPositions(Protocol):
    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        """The last position taken from each of these streams (absent: none yet)."""


def _moved(tracking: Tracking) -> tuple[StreamPosition, ...]:
    return tracking.positions if isinstance(tracking, StreamTracking) else ()


def _in_order(tracking: Tracking) -> tuple[Tracking, ...]:
    """The tracking records one write carries: a `StreamTracking`'s earlier ones first."""
    return tracking.in_order() if isinstance(tracking, StreamTracking) else (tracking,)


def _conflict(position: StreamPosition) -> IntegrityError:
    return IntegrityError(f"stream {position.producer} is already at or past {position.sequence}")


class SQLiteStreamPositions(SQLiteTrackingRecorder):
    streams_table: ClassVar[str] = "consumed_streams"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.streams_table} ("
            "producer TEXT NOT NULL, patient_id TEXT NOT NULL, sequence INTEGER NOT NULL, "
            "event_id TEXT NOT NULL, digest TEXT NOT NULL, "
            "PRIMARY KEY (producer, patient_id)) WITHOUT ROWID",
        ]

    def _insert_tracking(self, c: SQLiteCursor, tracking: Tracking) -> None:
        for taken in _in_order(tracking):
            super()._insert_tracking(c, taken)
            self._move_streams(c, taken)

    def _move_streams(self, c: SQLiteCursor, tracking: Tracking) -> None:
        for position in _moved(tracking):
            c.execute(
                f"INSERT INTO {self.streams_table} ({COLUMNS}) VALUES (?, ?, ?, ?, ?) "  # noqa: S608
                "ON CONFLICT (producer, patient_id) DO UPDATE SET sequence = excluded.sequence, "
                "event_id = excluded.event_id, digest = excluded.digest "
                f"WHERE {self.streams_table}.sequence < excluded.sequence RETURNING sequence",
                (
                    position.producer,
                    position.patient_id,
                    position.sequence,
                    position.event_id,
                    position.digest,
                ),
            )
            if c.fetchone() is None:
                raise _conflict(position)

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        if not streams:
            return {}
        wanted = ", ".join("(?, ?)" for _ in streams)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {COLUMNS} FROM {self.streams_table} "  # noqa: S608 - constants
                f"WHERE (producer, patient_id) IN (VALUES {wanted})",
                [part for stream in streams for part in stream],
            )
            return _positions(tuple(row) for row in c.fetchall())


class PostgresStreamPositions(PostgresTrackingRecorder):
    streams_table: ClassVar[str] = "consumed_streams"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.streams_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (producer text NOT NULL, patient_id text NOT "
                "NULL, sequence bigint NOT NULL, event_id text NOT NULL, digest text NOT NULL, "
                "PRIMARY KEY (producer, patient_id))"
            ).format(table)
        )
        self._upsert_position = SQL(
            "INSERT INTO {0} ({1}) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (producer, patient_id) DO UPDATE SET sequence = excluded.sequence, "
            "event_id = excluded.event_id, digest = excluded.digest "
            "WHERE {0}.sequence < excluded.sequence RETURNING sequence"
        ).format(table, SQL(COLUMNS))
        self._select_positions = SQL(
            "SELECT {1} FROM {0} WHERE (producer, patient_id) IN "
            "(SELECT * FROM unnest(%s::text[], %s::text[]))"
        ).format(table, SQL(COLUMNS))

    def _insert_tracking(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        for taken in _in_order(tracking):
            super()._insert_tracking(curs, taken)
            self._move_streams(curs, taken)

    def _move_streams(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        for position in _moved(tracking):
            curs.execute(
                self._upsert_position,
                (
                    position.producer,
                    position.patient_id,
                    position.sequence,
                    position.event_id,
                    position.digest,
                ),
                prepare=True,
            )
            if curs.fetchone() is None:
                raise _conflict(position)

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        if not streams:
            return {}
        producers, patients = [s[0] for s in streams], [s[1] for s in streams]
        with self.datastore.get_connection() as connection, connection.cursor() as curs:
            curs.execute(self._select_positions, (producers, patients), prepare=True)
            return _positions(tuple(row.values()) for row in curs.fetchall())


class POPOStreamProcessRecorder(POPOProcessRecorder):
    """In memory, for unit tests."""

    def __init__(self) -> None:
        super().__init__()
        self._streams: dict[Stream, StreamPosition] = {}

    def _assert_tracking_uniqueness(self, tracking: Tracking) -> None:
        for taken in _in_order(tracking):
            super()._assert_tracking_uniqueness(taken)

    def _insert_tracking(self, tracking: Tracking) -> None:
        for taken in _in_order(tracking):
            super()._insert_tracking(taken)
            for position in _moved(taken):
                self._streams[position.stream] = position

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        with self._database_lock:
            return {s: self._streams[s] for s in streams if s in self._streams}


def _positions(rows: Any) -> dict[Stream, StreamPosition]:
    found = (StreamPosition(str(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in rows)
    return {position.stream: position for position in found}
