"""The care network, kept in the service's own store from the topics, read through a small cache.

It holds only who is related to which patient (organisation and person ids, consent scopes,
grants), no personal data. The loader (`graph_loader`, a kit `BatchConsumer`) folds into it
every verified message of the intake, routing, casework and audit topics. What it has folded
is stored in the same transaction as the tracking records of the partitions' last offsets (one
transaction per fetch) and the positions of the streams the messages came from, so a restart
resumes where the last batch ended instead of reading (and verifying) every topic again from
offset 0. A service is not
ready before its loader has caught up with the ends the topics had when it started.

- Where: on SQLite a file of its own beside the service's (`<service>.access.sqlite`), so that
  the loader's writes never wait for the service's write lock, nor the service for the
  loader's; on PostgreSQL the service's schema, in tables of its own (`access_graph_*`).
- What: one row per patient with the relations as JSON, and the patient of each case and
  referral. A row rather than normalised tables, because an access decision needs all of a
  patient's relations at once, and because `CareNetwork` (`relations`) stays the one place
  where events become relations: a batch reads the rows of the patients it is about, folds its
  events into them, and writes them back.
- Reads go through a bounded LRU cache of rows; each read decodes a fresh `PatientRelations`,
  which the caller may amend. The writer drops the rows it changed once it has committed, and
  the whole cache when it finds a partition's position moved by someone else (a replica on the
  same PostgreSQL schema), whose changes it cannot name.
- Replicas on one PostgreSQL schema each load every topic (there is no consumer group). As with
  audit's history index, the second one to track a batch fails on the tracking upsert
  (`IntegrityError`: its whole transaction is rolled back); the `BatchConsumer` retries, finds
  the offsets tracked, and writes nothing.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, NamedTuple
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.postgres import BasePostgresFactory
from eventsourcing.sqlite import SQLiteFactory
from psycopg.sql import SQL, Identifier
from pydantic import TypeAdapter

from carenet_access.relations import RELEVANT, CareNetwork, PatientRelations
from carenet_contracts import Envelope, Payload
from carenet_kit.admission import Stream, StreamPosition, StreamTracking
from carenet_kit.batches import BatchConsumer, PartitionBatch, untracked
from carenet_kit.consumed_streams import PostgresStreamPositions, SQLiteStreamPositions
from carenet_kit.lease import creating_tables
from carenet_kit.settings import ServiceSettings

SOURCES = ("intake", "routing", "casework", "audit")
"""The producers whose events say who is related to a patient."""

CACHED_PATIENTS = 10_000
"""How many patients' rows a process keeps decoded-ready in memory (a few MB)."""

Subject = Literal["case", "referral"]

_JSON: TypeAdapter[PatientRelations] = TypeAdapter(PatientRelations)


class Written(NamedTuple):
    tracked: dict[str, int | None]
    """Each partition's position in the store before the write."""
    changed: frozenset[UUID]
    """The patients whose rows the write changed."""


class GraphStore(TrackingRecorder, ABC):
    """The graph's tables, with its loader's tracking records and stream positions."""

    def write(self, batches: Sequence[PartitionBatch]) -> Written:
        """Fold what lies after each partition's tracked offset into the rows, in one
        transaction with the tracking records; a batch already tracked changes nothing."""
        with self._transaction() as cursor:
            names = [batch.tracking.application_name for batch in batches]
            tracked = {name: self._max_tracking_id(name, cursor) for name in names}
            taken = untracked(batches, tracked.__getitem__)
            envelopes = [
                m.envelope
                for partition in taken
                for m in partition.messages
                if isinstance(m.envelope.data, RELEVANT)
            ]
            network = _fold(self._rows(cursor, {e.patient_id for e in envelopes}), envelopes)
            self._upsert(cursor, network)
            for partition in taken:
                self._insert_tracking(cursor, partition.tracking)
        return Written(tracked, frozenset(network.patients))

    @abstractmethod
    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]: ...

    @abstractmethod
    def row(self, patient_id: UUID) -> str | None:
        """The patient's relations as stored (JSON), or None if the network has not heard of
        them."""

    @abstractmethod
    def patient_of(self, subject: Subject, subject_id: UUID) -> UUID | None: ...

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _max_tracking_id(self, application_name: str, cursor: Any) -> int | None: ...

    @abstractmethod
    def _insert_tracking(self, cursor: Any, tracking: StreamTracking) -> None: ...

    @abstractmethod
    def _rows(self, cursor: Any, patient_ids: Collection[UUID]) -> dict[UUID, str]: ...

    @abstractmethod
    def _upsert(self, cursor: Any, network: CareNetwork) -> None: ...


def _fold(rows: Mapping[UUID, str], envelopes: Sequence[Envelope[Payload]]) -> CareNetwork:
    network = CareNetwork({patient: _JSON.validate_json(row) for patient, row in rows.items()})
    for envelope in envelopes:
        network.apply(envelope)
    return network


def _subjects(network: CareNetwork) -> Iterator[tuple[Subject, UUID, UUID]]:
    """What the batch learnt of which patient each case and referral is about."""
    yield from (("case", case, patient) for case, patient in network.cases.items())
    yield from (("referral", referral, patient) for referral, patient in network.referrals.items())


class SQLiteGraphStore(SQLiteStreamPositions, GraphStore):
    streams_table = "access_graph_streams"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS access_graph_relations ("
            "patient_id TEXT PRIMARY KEY, relations TEXT NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS access_graph_patient_of ("
            "subject TEXT NOT NULL, subject_id TEXT NOT NULL, patient_id TEXT NOT NULL, "
            "PRIMARY KEY (subject, subject_id)) WITHOUT ROWID",
        ]

    def row(self, patient_id: UUID) -> str | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT relations FROM access_graph_relations WHERE patient_id = ?",
                (str(patient_id),),
            )
            found = c.fetchone()
            return None if found is None else str(found[0])

    def patient_of(self, subject: Subject, subject_id: UUID) -> UUID | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT patient_id FROM access_graph_patient_of "
                "WHERE subject = ? AND subject_id = ?",
                (subject, str(subject_id)),
            )
            found = c.fetchone()
            return None if found is None else UUID(found[0])

    def _transaction(self) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=True)

    def _rows(self, cursor: Any, patient_ids: Collection[UUID]) -> dict[UUID, str]:
        if not patient_ids:
            return {}
        cursor.execute(
            "SELECT patient_id, relations FROM access_graph_relations "  # noqa: S608 - "?"s
            f"WHERE patient_id IN ({', '.join('?' * len(patient_ids))})",
            [str(p) for p in patient_ids],
        )
        return {UUID(patient): relations for patient, relations in cursor.fetchall()}

    def _upsert(self, cursor: Any, network: CareNetwork) -> None:
        cursor.executemany(
            "INSERT INTO access_graph_relations VALUES (?, ?) ON CONFLICT (patient_id) "
            "DO UPDATE SET relations = excluded.relations",
            [(str(p), _JSON.dump_json(r).decode()) for p, r in network.patients.items()],
        )
        cursor.executemany(
            "INSERT INTO access_graph_patient_of VALUES (?, ?, ?) "
            "ON CONFLICT (subject, subject_id) DO UPDATE SET patient_id = excluded.patient_id",
            [(s, str(s_id), str(p)) for s, s_id, p in _subjects(network)],
        )


class PostgresGraphStore(PostgresStreamPositions, GraphStore):
    streams_table = "access_graph_streams"
    tracking_table = "access_graph_tracking"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, tracking_table_name=self.tracking_table, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.access_graph_relations ("
                "patient_id uuid PRIMARY KEY, relations jsonb NOT NULL)"
            ).format(schema),
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.access_graph_patient_of ("
                "subject text NOT NULL, subject_id uuid NOT NULL, patient_id uuid NOT NULL, "
                "PRIMARY KEY (subject, subject_id))"
            ).format(schema),
        ]
        self._select_rows = SQL(
            "SELECT patient_id, relations::text AS relations FROM {0}.access_graph_relations "
            "WHERE patient_id = ANY(%s)"
        ).format(schema)
        self._upsert_rows = SQL(
            "INSERT INTO {0}.access_graph_relations VALUES (%s, %s::jsonb) "
            "ON CONFLICT (patient_id) DO UPDATE SET relations = excluded.relations"
        ).format(schema)
        self._select_patient = SQL(
            "SELECT patient_id FROM {0}.access_graph_patient_of "
            "WHERE subject = %s AND subject_id = %s"
        ).format(schema)
        self._upsert_patients = SQL(
            "INSERT INTO {0}.access_graph_patient_of VALUES (%s, %s, %s) "
            "ON CONFLICT (subject, subject_id) DO UPDATE SET patient_id = excluded.patient_id"
        ).format(schema)

    def row(self, patient_id: UUID) -> str | None:
        with self.datastore.get_connection() as connection, connection.cursor() as curs:
            return self._rows(curs, [patient_id]).get(patient_id)

    def patient_of(self, subject: Subject, subject_id: UUID) -> UUID | None:
        with self.datastore.get_connection() as connection, connection.cursor() as curs:
            curs.execute(self._select_patient, (subject, subject_id), prepare=True)
            found = curs.fetchone()
            return None if found is None else UUID(str(found["patient_id"]))

    def _transaction(self) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=True)

    def _rows(self, cursor: Any, patient_ids: Collection[UUID]) -> dict[UUID, str]:
        if not patient_ids:
            return {}
        cursor.execute(self._select_rows, (list(patient_ids),), prepare=True)
        return {row["patient_id"]: row["relations"] for row in cursor.fetchall()}

    def _upsert(self, cursor: Any, network: CareNetwork) -> None:
        rows = [(p, _JSON.dump_json(r).decode()) for p, r in network.patients.items()]
        cursor.executemany(self._upsert_rows, rows)
        cursor.executemany(self._upsert_patients, list(_subjects(network)))


class _Cache:
    """A bounded LRU of stored rows (None: no such patient). Every change moves a generation
    on, so that a read that raced a write does not keep what it read before the write."""

    def __init__(self, size: int) -> None:
        self._rows: OrderedDict[UUID, str | None] = OrderedDict()
        self._size = size
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, patient_id: UUID, load: Callable[[UUID], str | None]) -> str | None:
        with self._lock:
            if patient_id in self._rows:
                self._rows.move_to_end(patient_id)
                return self._rows[patient_id]
            generation = self._generation
        row = load(patient_id)
        with self._lock:
            if generation == self._generation:
                self._rows[patient_id] = row
                if len(self._rows) > self._size:
                    self._rows.popitem(last=False)
        return row

    def forget(self, patient_ids: Collection[UUID] | None) -> None:
        """Drop these patients' rows (None: every row)."""
        with self._lock:
            self._generation += 1
            if patient_ids is None:
                self._rows.clear()
            for patient_id in patient_ids or ():
                self._rows.pop(patient_id, None)


class AccessGraph:
    """The loader's `BatchSink`, and what access control reads. It grants access from what it
    reads, so it takes only messages the consumer has verified and placed in their streams."""

    def __init__(
        self, factory: InfrastructureFactory[Any], cached_patients: int = CACHED_PATIENTS
    ) -> None:
        self._factory = factory
        self._store = _store(factory)
        self._cache = _Cache(cached_patients)
        self._left: dict[str, int] = {}
        """Each partition's position as this process last left it in the store."""

    @staticmethod
    def beside(factory: InfrastructureFactory[Any]) -> AccessGraph:
        """The graph in the store of the application that owns `factory` (see above)."""
        return AccessGraph(InfrastructureFactory.construct(_graph_env(factory)))

    def max_tracking_id(self, application_name: str) -> int | None:
        return self._store.max_tracking_id(application_name)

    def stream_positions(self, streams: Collection[Stream]) -> dict[Stream, StreamPosition]:
        return self._store.stream_positions(streams)

    def write(self, batches: Sequence[PartitionBatch]) -> None:
        tracked, changed = self._store.write(batches)
        moved_by_another = any(
            before is not None and before != self._left.get(name)
            for name, before in tracked.items()
        )
        self._cache.forget(None if moved_by_another else changed)
        for batch in batches:
            name, before = batch.tracking.application_name, tracked[batch.tracking.application_name]
            self._left[name] = max(batch.tracking.notification_id, -1 if before is None else before)

    def relations(self, patient_id: UUID) -> PatientRelations | None:
        """The patient's relations, a new copy at every call, or None if the network has not
        heard of them."""
        row = self._cache.get(patient_id, self._store.row)
        return None if row is None else _JSON.validate_json(row)

    def patient_of_case(self, case_id: UUID) -> UUID | None:
        return self._store.patient_of("case", case_id)

    def patient_of_referral(self, referral_id: UUID) -> UUID | None:
        return self._store.patient_of("referral", referral_id)

    def close(self) -> None:
        self._factory.close()


def _graph_env(factory: InfrastructureFactory[Any]) -> dict[str, str]:
    """The application's store settings, with a SQLite file of the graph's own beside the
    application's (and in memory beside a store in memory, as in unit tests)."""
    env = {key: str(value) for key, value in factory.env.items()}
    if isinstance(factory, BasePostgresFactory):
        return env
    db_name = str(factory.env.get("SQLITE_DBNAME") or ":memory:")
    if ":memory:" in db_name or "mode=memory" in db_name:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
    path = Path(db_name)
    return env | {"SQLITE_DBNAME": str(path.with_name(f"{path.stem}.access{path.suffix}"))}


def _store(factory: InfrastructureFactory[Any]) -> GraphStore:
    store: GraphStore
    if isinstance(factory, SQLiteFactory):
        store = SQLiteGraphStore(factory.datastore)
    elif isinstance(factory, BasePostgresFactory):
        store = PostgresGraphStore(factory.datastore)
    else:
        raise TypeError(f"the access graph is kept in SQLite or PostgreSQL, not {factory}")
    if factory.env_create_table():
        with creating_tables(factory.env):  # replicas starting together on a new database
            store.create_table()
    return store


def graph_loader(settings: ServiceSettings, graph: AccessGraph) -> BatchConsumer:
    return BatchConsumer(
        name=f"{settings.consumer_group}-access",
        bootstrap=settings.kafka_bootstrap,
        topics=[settings.topic(producer) for producer in SOURCES],
        sink=graph,
        dead_letter_topic=settings.dead_letter_topic,
        gate=settings.gate(),
        security=settings.kafka_security(),
    )
