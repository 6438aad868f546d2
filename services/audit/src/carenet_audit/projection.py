"""The per-patient history: every message of every CareNet topic, verbatim, indexed by patient.

A materialised view in the eventsourcing library's sense: a `TrackingRecorder` whose own table
(`patient_history`) is written in the same transaction as the tracking records of the
partitions' last offsets (one transaction per fetch) and the positions of the streams it took
messages from (only those the kit's admission verified), so the view and its positions never
disagree. A batch that is
already (partly) tracked writes only what lies after the tracked offset: a redelivered message
changes nothing. The value bytes and the producer's signature are kept exactly as they were on
the broker, so an auditor's verifier works on this copy as on the topics themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.sqlite import SQLiteFactory
from psycopg.sql import SQL, Identifier

from carenet_kit.admission import Stream, StreamPosition
from carenet_kit.batches import Delivered, PartitionBatch, untracked
from carenet_kit.consumed_streams import PostgresStreamPositions, SQLiteStreamPositions
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER
from carenet_kit.wire import header

COLUMNS = (
    "patient_id",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "producer",
    "sequence",
    "event_type",
    "occurred_at",
    "recorded_at",
    "value",
    "key_id",
    "signature",
)
RETURNED = ", ".join(COLUMNS[1:])
ORDER = "ORDER BY recorded_at, producer, sequence, kafka_topic, kafka_offset"


@dataclass(frozen=True)
class HistoryEntry:
    """One message of a patient's history, as it lay on the broker."""

    topic: str
    partition: int
    offset: int
    producer: str
    sequence: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    value: bytes
    key_id: str | None
    signature: str | None


class HistoryIndex(TrackingRecorder, ABC):
    """Writes batches of messages with their tracking record; answers one patient's history."""

    @abstractmethod
    def write(self, batches: Sequence[PartitionBatch]) -> None: ...

    @abstractmethod
    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]: ...

    @abstractmethod
    def history(self, patient_id: UUID, as_of: datetime | None = None) -> list[HistoryEntry]:
        """The patient's messages recorded up to `as_of` (all if None), in recorded order."""

    @abstractmethod
    def count(self) -> int:
        """How many messages the index holds."""

    @staticmethod
    def construct(factory: InfrastructureFactory[Any]) -> HistoryIndex:
        """The index in the application's own store (SQLite or PostgreSQL)."""
        if isinstance(factory, SQLiteFactory):
            return factory.tracking_recorder(SQLiteHistoryIndex)  # type: ignore[return-value]
        return factory.tracking_recorder(PostgresHistoryIndex)  # type: ignore[no-any-return]


def _row(message: Delivered) -> tuple[Any, ...]:
    envelope, record = message.envelope, message.record
    headers = list(record.headers)
    return (
        envelope.patient_id,
        record.topic,
        record.partition,
        record.offset,
        envelope.producer,
        envelope.sequence,
        envelope.event_type,
        envelope.occurred_at,
        envelope.recorded_at,
        record.value,
        header(headers, KEY_ID_HEADER),
        header(headers, SIGNATURE_HEADER),
    )


def _entry(row: Sequence[Any], instant: Any) -> HistoryEntry:
    return HistoryEntry(
        topic=row[0],
        partition=row[1],
        offset=row[2],
        producer=row[3],
        sequence=row[4],
        event_type=row[5],
        occurred_at=instant(row[6]),
        recorded_at=instant(row[7]),
        value=bytes(row[8]),
        key_id=row[9],
        signature=row[10],
    )


def _text(instant: datetime) -> str:
    """UTC with a fixed width, so that SQLite's text comparison orders instants."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SQLiteHistoryIndex(SQLiteStreamPositions, HistoryIndex):
    streams_table = "history_streams"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS patient_history ("
            "patient_id TEXT NOT NULL, kafka_topic TEXT NOT NULL, "
            "kafka_partition INTEGER NOT NULL, kafka_offset INTEGER NOT NULL, "
            "producer TEXT NOT NULL, sequence INTEGER NOT NULL, event_type TEXT NOT NULL, "
            "occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, value BLOB NOT NULL, "
            "key_id TEXT, signature TEXT, "
            "PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset))",
            "CREATE INDEX IF NOT EXISTS patient_history_by_patient "
            "ON patient_history (patient_id, recorded_at)",
        ]

    def write(self, batches: Sequence[PartitionBatch]) -> None:
        with self.datastore.transaction(commit=True) as c:
            for partition in untracked(batches, lambda name: self._max_tracking_id(name, c)):
                rows = [_row(m) for m in partition.messages]
                c.executemany(
                    f"INSERT INTO patient_history ({', '.join(COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(COLUMNS))})",
                    [(str(r[0]), *r[1:7], _text(r[7]), _text(r[8]), *r[9:]) for r in rows],
                )
                self._insert_tracking(c, partition.tracking)

    def history(self, patient_id: UUID, as_of: datetime | None = None) -> list[HistoryEntry]:
        query = f"SELECT {RETURNED} FROM patient_history WHERE patient_id = ?"  # noqa: S608
        params: list[str] = [str(patient_id)]
        if as_of is not None:
            query += " AND recorded_at <= ?"
            params.append(_text(as_of))
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"{query} {ORDER}", params)
            return [_entry(row, datetime.fromisoformat) for row in c.fetchall()]

    def count(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COUNT(*) FROM patient_history")
            return int(c.fetchone()[0])


class PostgresHistoryIndex(PostgresStreamPositions, HistoryIndex):
    streams_table = "history_streams"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.patient_history ("
                "patient_id uuid NOT NULL, kafka_topic text NOT NULL, "
                "kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL, "
                "producer text NOT NULL, sequence bigint NOT NULL, event_type text NOT NULL, "
                "occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL, "
                "value bytea NOT NULL, key_id text, signature text, "
                "PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset))"
            ).format(schema),
            SQL(
                "CREATE INDEX IF NOT EXISTS patient_history_by_patient "
                "ON {0}.patient_history (patient_id, recorded_at)"
            ).format(schema),
        ]
        self._insert = SQL("INSERT INTO {0}.patient_history ({1}) VALUES ({2})").format(
            schema,
            SQL(", ").join(map(Identifier, COLUMNS)),
            SQL(", ").join(SQL("%s") for _ in COLUMNS),
        )
        self._select = SQL("SELECT {1} FROM {0}.patient_history WHERE patient_id = %s").format(
            schema, SQL(RETURNED)
        )
        self._count = SQL("SELECT COUNT(*) AS n FROM {0}.patient_history").format(schema)

    def write(self, batches: Sequence[PartitionBatch]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for partition in untracked(batches, lambda name: self._max_tracking_id(name, curs)):
                curs.executemany(self._insert, [_row(m) for m in partition.messages])
                self._insert_tracking(curs, partition.tracking)

    def history(self, patient_id: UUID, as_of: datetime | None = None) -> list[HistoryEntry]:
        query, params = self._select, list[object]([patient_id])
        if as_of is not None:
            query, params = query + SQL(" AND recorded_at <= %s"), [*params, as_of]
        with self.datastore.get_connection() as connection, connection.cursor() as curs:
            curs.execute(query + SQL(" " + ORDER), params)
            return [_entry(list(row.values()), _utc) for row in curs.fetchall()]

    def count(self) -> int:
        with self.datastore.get_connection() as connection, connection.cursor() as curs:
            curs.execute(self._count)
            row = curs.fetchone()
            return int(row["n"]) if row else 0


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)
