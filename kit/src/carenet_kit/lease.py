"""Leases: which one of a service's replicas does a job that must run in one place at a time.

A service scales out by running several processes on one store. Most of what a process does is
safe to do in every replica (the consumer group splits the partitions, optimistic concurrency
settles races on an aggregate), but the outbox relay is not: two relays would publish the same
messages twice. The relay therefore works only while it holds a lease, and a lease here is a
lock that its holder's death releases by itself, so a standby replica takes over without any
expiry to tune:

- `PostgresLease`: a session advisory lock (`pg_try_advisory_lock`) on a connection of its own.
  PostgreSQL releases it when the session ends: the process exits or is killed, or its
  connection breaks (TCP keepalives, on both sides, notice a vanished peer within seconds).
  The connection must reach PostgreSQL itself or a pooler in session mode: a transaction-mode
  pooler (PgBouncer's default) would hand the session, and the lock, to someone else.
- `FileLease`: an OS file lock (`flock`, through the `filelock` package) on a file next to the
  SQLite database, for the replicas of one machine; the kernel releases it with the process.
- `Unshared`: a store used by one process only (tests, tools): always held.

Calls block (a database round trip): the relay runs them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import psycopg
import structlog
from filelock import FileLock, Timeout

log = structlog.get_logger()


class Lease(Protocol):
    name: str

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; whether this process holds it now."""

    def held(self) -> bool:
        """Whether this process still holds the lease (asked before each unit of work)."""

    def release(self) -> None:
        """Give the lease up, if held (a clean shutdown; a crash releases it too)."""


class Unshared:
    """The store is used by this process only: the lease is always held."""

    def __init__(self, name: str = "unshared") -> None:
        self.name = name

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def advisory_key(name: str) -> int:
    """The signed 64-bit key of `pg_advisory_lock` that stands for the lease's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


KEEPALIVE_SECONDS = 5
"""TCP keepalive idle/interval of the lease's connection; a dead peer is noticed after about
idle + 3 * interval, by the client (which then stops working) and by the server (which then
releases the lock)."""


class PostgresLease:
    """A PostgreSQL session advisory lock, held on a connection of its own."""

    def __init__(self, name: str, connect: Mapping[str, Any]) -> None:
        """`name` identifies the job (one lock per name in the database); `connect` holds
        psycopg's connection arguments (host, port, user, password, dbname)."""
        self.name = name
        self.key = advisory_key(name)
        self._connect = dict(connect)
        self._connection: psycopg.Connection[Any] | None = None

    def acquire(self) -> bool:
        if self.held():
            return True
        try:
            connection = self._connection or self._open()
            self._connection = connection
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as error:
            log.warning("lease store unavailable", lease=self.name, error=type(error).__name__)
            self._drop()
            return False
        return bool(row and row[0])

    def held(self) -> bool:
        if self._connection is None:
            return False
        try:
            row = self._connection.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objsubid = 1 "
                "AND classid::bigint = %s AND objid::bigint = %s",
                ((self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF),
            ).fetchone()
        except psycopg.Error:
            self._drop()  # the session is gone, and the lock with it
            return False
        return bool(row and row[0])

    def release(self) -> None:
        self._drop()  # ending the session releases its advisory locks

    def _open(self) -> psycopg.Connection[Any]:
        keepalive = KEEPALIVE_SECONDS
        return psycopg.connect(
            **self._connect,
            autocommit=True,
            connect_timeout=10,
            application_name=f"carenet lease {self.name}"[:63],
            keepalives=1,
            keepalives_idle=keepalive,
            keepalives_interval=keepalive,
            keepalives_count=3,
            tcp_user_timeout=4 * keepalive * 1000,
            # the server's side of the same: it releases the lock of a peer that vanished
            options=(
                f"-c tcp_keepalives_idle={keepalive} -c tcp_keepalives_interval={keepalive} "
                "-c tcp_keepalives_count=3 -c statement_timeout=10000"
            ),
        )

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):
                connection.close()


@contextmanager
def postgres_exclusive(name: str, connect: Mapping[str, Any]) -> Iterator[None]:
    """Wait for, then hold, a session advisory lock for the duration of the block: replicas
    that start together on a new database create its tables one after the other."""
    with psycopg.connect(**connect, autocommit=True, connect_timeout=10) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (advisory_key(name),))
        yield  # closing the connection releases the lock


def creating_tables(env: Mapping[str, str]) -> AbstractContextManager[None]:
    """Around the creation of a store's tables (the `eventsourcing` settings in `env`): on
    PostgreSQL, one replica at a time, since two that start together on a new database would
    both create the tracking table and both record its migration, and one would fail."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return nullcontext()
    connect = {
        "host": env.get("POSTGRES_HOST"),
        "port": env.get("POSTGRES_PORT"),
        "user": env.get("POSTGRES_USER"),
        "password": env.get("POSTGRES_PASSWORD"),
        "dbname": env.get("POSTGRES_DBNAME"),
    }
    name = f"carenet-create-tables:{env.get('POSTGRES_SCHEMA') or 'public'}"
    return postgres_exclusive(name, {k: v for k, v in connect.items() if v})


class FileLease:
    """An exclusive OS lock on a file, for the processes of one machine (SQLite)."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        # not thread-local: the relay's calls run on whichever worker thread is free
        self._lock = FileLock(path, thread_local=False)

    def acquire(self) -> bool:
        if self._lock.is_locked:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(blocking=False)
        except Timeout:
            return False
        return True

    def held(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        self._lock.release(force=True)
