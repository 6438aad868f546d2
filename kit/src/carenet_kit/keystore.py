"""Keys of one subject each, kept wrapped by a master key, that can be destroyed for good.

Crypto-shredding: whatever was encrypted with a subject's key (stored events, messages on a
topic) becomes unreadable once the key is destroyed, although those bytes never change. The
table `subject_keys` lives in the service's own store (the application's SQLite file or its
PostgreSQL schema), reached through the `eventsourcing` factory's datastore. Each key is
wrapped with AES-256-GCM under the master key (`CARENET_MASTER_KEY`), the subject and purpose
as associated data, so a wrapped key copied to another row does not unwrap.

A key made for a command (`make`) is stored in the transaction of the command's events (the
service's process recorder records each `NewKey` passed to `ServiceApplication.commit`): the
key exists if and only if the events that published its public half do, at no extra commit.

A destroyed key leaves a row without key (`destroyed_at` set), so that it is never silently
created again. What remains of a destroyed key:
- SQLite: `secure_delete` zeroes the freed bytes and a `TRUNCATE` checkpoint empties the
  write-ahead log, so the wrapped key is gone from the database files (not from backups, nor
  from blocks the file system may have moved).
- PostgreSQL: the old row version keeps the wrapped key until VACUUM reclaims it, and the WAL
  and any base backup or replica keep it as long as they are kept; only the master key, which
  is in none of them, protects those copies.
"""

from __future__ import annotations

import base64
import binascii
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import InfrastructureFactory, IntegrityError
from eventsourcing.postgres import BasePostgresFactory, PostgresDatastore, PostgresRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory, SQLiteRecorder
from psycopg.sql import SQL, Identifier

from carenet_kit.lease import creating_tables

log = structlog.get_logger()

KEY_BYTES = 32
NONCE_BYTES = 12
DEVELOPMENT_MASTER_KEY = "Y2FyZW5ldC1kZXZlbG9wbWVudC1tYXN0ZXIta2V5ISE="
"""base64 of 32 bytes anyone can read in this repository: for development only."""


class KeyDestroyed(LookupError):
    """The subject's key was destroyed; a new one is never made in its place."""


def master_key(text: str) -> bytes:
    """The master key from its base64 text (32 bytes), or ValueError saying what is wrong."""
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError("the master key is not base64") from error
    if len(key) != KEY_BYTES:
        raise ValueError(f"the master key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


@dataclass(frozen=True)
class NewKey:
    """A key `make` made, stored only with the events of the command that asked for it."""

    store: KeyStore
    subject: UUID
    wrapped: bytes

    def record(self, cursor: Any) -> None:
        """Store it in the recorder's transaction (cursor). If another transaction stored or
        destroyed the subject's key first, IntegrityError rolls back the whole transaction;
        the command runs again and `make` finds that key."""
        stored = self.store._insert_or_read_in(cursor, str(self.subject), self.wrapped)
        if stored != self.wrapped:
            raise IntegrityError(f"the key of {self.subject} was stored or destroyed meanwhile")


@dataclass(frozen=True)
class MadeKey:
    key: bytes
    new_keys: tuple[NewKey, ...]
    """For the command's commit: the key, if it is new; nothing if it was already stored."""


class KeyStore(ABC):
    """One key per (subject, purpose); `make` is idempotent, `destroy` is final."""

    def __init__(self, master: bytes, purpose: str) -> None:
        self._master = AESGCM(master)
        self.purpose = purpose

    @staticmethod
    def construct(factory: InfrastructureFactory[Any], master: bytes, purpose: str) -> KeyStore:
        """The keystore in the store of the application that owns `factory`."""
        if isinstance(factory, SQLiteFactory):
            store: KeyStore = SQLiteKeyStore(factory.datastore, master, purpose)
        elif isinstance(factory, BasePostgresFactory):
            store = PostgresKeyStore(factory.datastore, master, purpose)
        else:
            return MemoryKeyStore(master, purpose)  # the library's in-memory (POPO) store
        if factory.env_create_table():
            with creating_tables(factory.env):
                store.create_table()
        return store

    def make(self, subject: UUID) -> MadeKey:
        """The subject's key for a command: the stored one, or a new one the command records
        with its events (`MadeKey.new_keys`); KeyDestroyed if it was destroyed."""
        found, wrapped = self._read(str(subject))
        if found and wrapped is None:
            raise KeyDestroyed(f"the key of {subject} was destroyed")
        if wrapped is not None:
            return MadeKey(self._unwrap(subject, wrapped), ())
        key = os.urandom(KEY_BYTES)
        return MadeKey(key, (NewKey(self, subject, self._wrap(subject, key)),))

    def get(self, subject: UUID) -> bytes | None:
        """The subject's key; None if it never had one or it was destroyed."""
        _, wrapped = self._read(str(subject))
        return None if wrapped is None else self._unwrap(subject, wrapped)

    def destroy(self, subject: UUID) -> bool:
        """Destroy the subject's key; True if there was one to destroy (again: False)."""
        return self._destroy(str(subject), datetime.now(UTC))

    @abstractmethod
    def create_table(self) -> None: ...

    def _aad(self, subject: UUID) -> bytes:
        return f"{self.purpose}/{subject}".encode()

    def _wrap(self, subject: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, key, self._aad(subject))

    def _unwrap(self, subject: UUID, wrapped: bytes) -> bytes:
        try:
            return self._master.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self._aad(subject)
            )
        except InvalidTag as error:
            raise ValueError(
                f"the key of {subject} does not unwrap with this master key"
            ) from error

    @abstractmethod
    def _insert_or_read_in(self, cursor: Any, subject: str, wrapped: bytes) -> bytes | None:
        """Insert unless a row exists, in a recorder's transaction (which commits it with the
        rest); the row's wrapped key (None if destroyed)."""

    @abstractmethod
    def _read(self, subject: str) -> tuple[bool, bytes | None]:
        """Whether the subject has a row, and its wrapped key (None if destroyed)."""

    @abstractmethod
    def _destroy(self, subject: str, at: datetime) -> bool: ...


class MemoryKeyStore(KeyStore):
    """For the library's in-memory store (unit tests, simulations): gone with the process."""

    def __init__(self, master: bytes, purpose: str) -> None:
        super().__init__(master, purpose)
        self._keys: dict[str, bytes | None] = {}

    def create_table(self) -> None:
        """Nothing to create in memory."""

    def _insert_or_read_in(self, cursor: Any, subject: str, wrapped: bytes) -> bytes | None:
        return self._keys.setdefault(subject, wrapped)

    def _read(self, subject: str) -> tuple[bool, bytes | None]:
        return subject in self._keys, self._keys.get(subject)

    def _destroy(self, subject: str, at: datetime) -> bool:
        had = self._keys.get(subject) is not None
        self._keys[subject] = None
        return had


class SQLiteKeyStore(SQLiteRecorder, KeyStore):
    def __init__(self, datastore: SQLiteDatastore, master: bytes, purpose: str) -> None:
        SQLiteRecorder.__init__(self, datastore)
        KeyStore.__init__(self, master, purpose)

    def construct_create_table_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS subject_keys ("
            "subject_id TEXT NOT NULL, purpose TEXT NOT NULL, wrapped_key BLOB, "
            "created_at TEXT NOT NULL, destroyed_at TEXT, "
            "PRIMARY KEY (subject_id, purpose))"
        ]

    def _insert_or_read_in(self, cursor: Any, subject: str, wrapped: bytes) -> bytes | None:
        cursor.execute(
            "INSERT INTO subject_keys (subject_id, purpose, wrapped_key, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (subject, self.purpose, wrapped, datetime.now(UTC).isoformat()),
        )
        return self._select(cursor, subject)

    def _read(self, subject: str) -> tuple[bool, bytes | None]:
        with self.datastore.transaction(commit=False) as c:
            row = self._row(c, subject)
        return row is not None, self._select_from(row)

    def _select(self, c: Any, subject: str) -> bytes | None:
        return self._select_from(self._row(c, subject))

    def _row(self, c: Any, subject: str) -> Any:
        c.execute(
            "SELECT wrapped_key FROM subject_keys WHERE subject_id = ? AND purpose = ?",
            (subject, self.purpose),
        )
        return c.fetchone()

    @staticmethod
    def _select_from(row: Any) -> bytes | None:
        return None if row is None or row[0] is None else bytes(row[0])

    def _destroy(self, subject: str, at: datetime) -> bool:
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")  # the freed bytes are zeroed, not left
            had_key = self._select(c, subject) is not None
            c.execute(
                "INSERT INTO subject_keys (subject_id, purpose, wrapped_key, created_at, "
                "destroyed_at) VALUES (?, ?, NULL, ?, ?) ON CONFLICT (subject_id, purpose) "
                "DO UPDATE SET wrapped_key = NULL, destroyed_at = excluded.destroyed_at "
                "WHERE wrapped_key IS NOT NULL",
                (subject, self.purpose, at.isoformat(), at.isoformat()),
            )
        self._checkpoint()
        return had_key

    def _checkpoint(self) -> None:
        """Copy the log into the database and empty it: the old page with the key goes."""
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
        if busy:
            log.warning("keystore: the write-ahead log could not be emptied yet (busy)")


class PostgresKeyStore(PostgresRecorder, KeyStore):
    def __init__(self, datastore: PostgresDatastore, master: bytes, purpose: str) -> None:
        PostgresRecorder.__init__(self, datastore)
        KeyStore.__init__(self, master, purpose)
        table = SQL("{0}.subject_keys").format(Identifier(datastore.schema))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} ("
                "subject_id text NOT NULL, purpose text NOT NULL, wrapped_key bytea, "
                "created_at timestamptz NOT NULL, destroyed_at timestamptz, "
                "PRIMARY KEY (subject_id, purpose))"
            ).format(table)
        )
        self._insert = SQL(
            "INSERT INTO {0} (subject_id, purpose, wrapped_key, created_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
        ).format(table)
        self._select = SQL(
            "SELECT wrapped_key FROM {0} WHERE subject_id = %s AND purpose = %s"
        ).format(table)
        self._erase = SQL(
            "INSERT INTO {0} (subject_id, purpose, wrapped_key, created_at, destroyed_at) "
            "VALUES (%s, %s, NULL, %s, %s) ON CONFLICT (subject_id, purpose) "
            "DO UPDATE SET wrapped_key = NULL, destroyed_at = excluded.destroyed_at "
            "WHERE {0}.wrapped_key IS NOT NULL"
        ).format(table)

    def _insert_or_read_in(self, cursor: Any, subject: str, wrapped: bytes) -> bytes | None:
        cursor.execute(self._insert, (subject, self.purpose, wrapped, datetime.now(UTC)))
        cursor.execute(self._select, (subject, self.purpose))
        return _wrapped(cursor.fetchone())

    def _read(self, subject: str) -> tuple[bool, bytes | None]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select, (subject, self.purpose))
            row = curs.fetchone()
            return row is not None, _wrapped(row)

    def _destroy(self, subject: str, at: datetime) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._select, (subject, self.purpose))
            had_key = _wrapped(curs.fetchone()) is not None
            curs.execute(self._erase, (subject, self.purpose, at, at))
            return had_key


def _wrapped(row: Any) -> bytes | None:
    if row is None or row["wrapped_key"] is None:
        return None
    return bytes(row["wrapped_key"])
