"""Group commit: the commands of one consumed batch in ONE SQLite transaction.

A command records its events, outbox messages and tracking record in one transaction
(`ServiceApplication.commit`), and on SQLite every commit waits for the disk (an fsync of 2–3 ms
on the machines measured): the largest single cost of a consumed message (issue 15). The inbound
consumer therefore takes a batch inside a `Group`. While the group is current (a context
variable, so it follows the consumer's work into its worker threads and nothing else), every
transaction of the service's datastore runs on the group's one connection, in the group's one
transaction: a command's writes are a savepoint, released when the command succeeds and rolled
back alone when it fails; its reads see what the group wrote before. The group commits once, when
the batch ends (before faust may commit the batch's offsets to Kafka), or earlier when it has held
the store's writer for `GROUP_SECONDS`, so that an HTTP command waiting for the writer waits at
most that long.

Why the guarantees hold: a crash before the group's commit loses the group whole, tracking
records included, and Kafka's offsets for it were not committed, so each message is taken again
and applied once; nothing outside the group sees its writes before the commit (WAL readers see
the last commit), so the relay and the read models see a group whole or not at all, in the order
of its notification ids (one writer at a time, as before). A connection asked for outside a
transaction (the keystore's checkpoint after an erasure) commits the group first.

Concurrent callers outside a group (HTTP requests, the relay recording its position) share
commits the same way (`SharedCommits`): each caller's writes are a savepoint in one open
transaction on the writer; the last caller of a run (none other waiting for the writer) commits
it, and every caller returns only once the commit holding its writes is done, so nothing is
answered before it is on disk. A caller alone commits at once, as before; under 32 concurrent
requests one commit serves many (bench P5). A failed caller's writes are undone alone; a commit
that fails fails every caller whose writes it held.

PostgreSQL is not grouped: its server flushes concurrent commits together (`commit_delay`) and a
command's transaction is short there; `grouping` returns a group that does nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    OperationalError,
    PersistenceError,
)
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
)

GROUP_SECONDS = 0.1
"""The longest a group holds the store's writer before it commits what it has."""

MOST_SHARED = 64
"""The most callers' commands one shared commit holds."""

READERS = 20
"""Reading connections kept open (and as many more opened at a peak, closed after it). A
request's thread reads what it changes first; with fewer kept than the threads that read at
once, connections were closed on their return and opened again, each new one reading the
schema before its first statement (the library's default keeps 5)."""

_current: ContextVar[Group | None] = ContextVar("carenet_group_commit", default=None)


class Group:
    """Transactions of one datastore, on the consumer's context, committed together.

    A lock keeps the group's connection to one thread at a time: a batch cancelled while its
    worker thread still runs a command is rolled back only after that command; once rolled
    back, the group takes no more transactions."""

    def __init__(self, datastore: GroupingSQLiteDatastore | None, seconds: float) -> None:
        self.datastore = datastore
        self.seconds = seconds
        self._connection: SQLiteConnection | None = None
        self._began = 0.0
        self._lock = threading.RLock()
        self._rolled_back = False

    @contextmanager
    def current(self) -> Iterator[None]:
        """Make this the group of the calling context (and of the threads it starts)."""
        token = _current.set(self)
        try:
            yield
        finally:
            _current.reset(token)

    @property
    def rolled_back(self) -> bool:
        return self._rolled_back

    def due(self) -> bool:
        """Whether the group has held the writer long enough to commit what it has."""
        return self._connection is not None and time.monotonic() - self._began >= self.seconds

    def commit(self) -> None:
        """Commit what the group wrote (one wait for the disk) and give the writer back."""
        self._end(SQLiteConnection.commit)

    def rollback(self) -> None:
        """Forget what the group wrote, give the writer back, and take nothing more."""
        self._rolled_back = True
        self._end(SQLiteConnection.rollback)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        """A transaction in the group's: a savepoint when it writes, nothing when it reads."""
        with self._lock:
            cursor = self._connected().cursor()
            with cursor:
                if not commit:
                    with _as_persistence_errors():
                        yield cursor
                    return
                with _as_persistence_errors():
                    cursor.execute("SAVEPOINT command")
                try:
                    with _as_persistence_errors():
                        yield cursor
                        cursor.execute("RELEASE command")
                except BaseException:
                    self._roll_back_command(cursor)
                    raise

    def _connected(self) -> SQLiteConnection:
        if self._rolled_back:
            raise PersistenceError("the group was rolled back; its batch is taken again")
        if self._connection is None:
            assert self.datastore is not None
            connection = self.datastore.pool.get_connection(is_writer=True)
            try:
                with _as_persistence_errors():
                    connection.cursor().execute("BEGIN IMMEDIATE")
            except BaseException:
                self.datastore.pool.put_connection(connection)
                raise
            self._connection, self._began = connection, time.monotonic()
        return self._connection

    def _roll_back_command(self, cursor: SQLiteCursor) -> None:
        """Undo the failed command alone; if SQLite ended the whole transaction (it does on
        some errors), the group is lost and the batch must be taken again."""
        try:
            cursor.execute("ROLLBACK TO command")
            cursor.execute("RELEASE command")
        except sqlite3.Error as error:
            self.rollback()
            raise PersistenceError(f"the group's transaction was lost: {error}") from error

    def _end(self, end: Callable[[SQLiteConnection], None]) -> None:
        """Commit or roll back the group's transaction, if it has one, and give the writer back
        (after the command a worker thread may still be running)."""
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                with _as_persistence_errors():
                    end(connection)
            except BaseException:
                with suppress(sqlite3.Error):  # a failed commit: the writer goes back clean
                    connection.rollback()
                raise
            finally:
                assert self.datastore is not None
                self.datastore.pool.put_connection(connection)


@dataclass
class _Shared:
    """One shared transaction: its group, how many callers' commands it holds, and how its
    commit ended (set once: None, or the failure every one of its callers raises)."""

    group: Group
    commands: int = 0
    ended: threading.Event = field(default_factory=threading.Event)
    failure: BaseException | None = None


class SharedCommits:
    """The transactions of concurrent callers outside a group, committed together: one caller
    at a time runs its command (a savepoint) in the open transaction; the caller that finds
    nobody waiting behind it, or the transaction held `GROUP_SECONDS` or `MOST_SHARED`
    commands long, commits it; the others wait for that commit."""

    def __init__(self, datastore: GroupingSQLiteDatastore) -> None:
        self.datastore = datastore
        self._turn = threading.Lock()
        self._queue = threading.Lock()  # guards `_waiting`
        self._waiting = 0
        self._open = _Shared(Group(datastore, GROUP_SECONDS))

    @contextmanager
    def transaction(self) -> Iterator[SQLiteCursor]:
        with self._queue:
            self._waiting += 1
        self._turn.acquire()
        with self._queue:
            self._waiting -= 1
        shared = self._open
        try:
            with shared.group.transaction(commit=True) as cursor:
                yield cursor
        except BaseException:
            self._end_turn(shared)  # the others' writes in it still need their commit
            raise
        self._end_turn(shared)
        shared.ended.wait()
        if shared.failure is not None:
            raise OperationalError(f"the shared commit failed: {shared.failure}")

    def _end_turn(self, shared: _Shared) -> None:
        """Give the turn up, committing first unless a caller waiting for it will."""
        try:
            shared.commands += 1
            with self._queue:
                waited_for = self._waiting > 0
            if waited_for and not shared.group.due() and shared.commands < MOST_SHARED:
                return
            self._open = _Shared(Group(self.datastore, GROUP_SECONDS))
            try:
                if shared.group.rolled_back:  # SQLite ended the transaction (a failed command)
                    raise PersistenceError("the shared transaction was lost")
                shared.group.commit()
            except BaseException as error:
                shared.failure = error
            shared.ended.set()
        finally:
            self._turn.release()


class GroupingSQLiteDatastore(SQLiteDatastore):
    """The library's SQLite datastore, whose transactions join the current `Group`, if any;
    and whose readers have a pool of their own (a file in WAL mode: readers never wait for a
    writer). The library's pool takes every connection through one queue, and a thread asking
    for the writer waits for it in that queue, so every reader behind it waited too: under
    32 concurrent requests, a fifth of intake's request threads' time (bench P5)."""

    def __init__(self, db_name: str, **options: Any) -> None:
        super().__init__(db_name, **options)
        in_memory = self.pool.is_sqlite_memory_mode  # reads and writes exclude each other
        self.readers = (
            None
            if in_memory
            else SQLiteConnectionPool(
                db_name=db_name,
                lock_timeout=options.get("lock_timeout"),
                pool_size=READERS,
                max_overflow=READERS,
            )
        )
        self.shared = None if in_memory else SharedCommits(self)

    @classmethod
    def replacing(cls, datastore: SQLiteDatastore) -> GroupingSQLiteDatastore:
        """A grouping datastore on the same database, in place of `datastore` (closed)."""
        datastore.close()
        return cls(
            datastore.pool.db_name,
            lock_timeout=datastore.pool.lock_timeout,
            single_row_tracking=datastore.single_row_tracking,
            originator_id_type=datastore.originator_id_type,
        )

    def close(self) -> None:
        super().close()
        readers: SQLiteConnectionPool | None = getattr(self, "readers", None)
        if readers is not None:  # (`__del__` may close one made only in part)
            readers.close()

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        group = self._group()
        if group is not None:
            with group.transaction(commit=commit) as cursor:
                yield cursor
        elif commit and self.shared is not None:
            with self.shared.transaction() as cursor:
                yield cursor
        else:
            with super().transaction(commit=commit) as cursor:
                yield cursor

    @contextmanager
    def get_connection(self, *, commit: bool) -> Iterator[SQLiteConnection]:
        group = self._group()
        if group is not None:
            group.commit()  # what needs a connection of its own comes after the group's writes
        if commit or self.readers is None:
            with super().get_connection(commit=commit) as connection:
                yield connection
            return
        connection = self.readers.get_connection(is_writer=False)
        try:
            yield connection
        finally:
            self.readers.put_connection(connection)

    def _group(self) -> Group | None:
        group = _current.get()
        return group if group is not None and group.datastore is self else None


def grouping(factory: InfrastructureFactory[Any]) -> Group:
    """A group for the commands of a batch in the factory's store (one that does nothing unless
    the store is a grouping SQLite datastore)."""
    datastore = factory.datastore if isinstance(factory, SQLiteFactory) else None
    grouped = datastore if isinstance(datastore, GroupingSQLiteDatastore) else None
    return Group(grouped, GROUP_SECONDS)


def install(factory: InfrastructureFactory[Any]) -> None:
    """Give a SQLite factory a grouping datastore, before its recorders are made."""
    if isinstance(factory, SQLiteFactory):
        factory.datastore = GroupingSQLiteDatastore.replacing(factory.datastore)


_ERRORS: tuple[tuple[type[sqlite3.Error], type[PersistenceError]], ...] = (
    (sqlite3.IntegrityError, IntegrityError),
    (sqlite3.OperationalError, OperationalError),
    (sqlite3.Error, PersistenceError),
)


@contextmanager
def _as_persistence_errors() -> Iterator[None]:
    """SQLite's errors as the library's, as its own transactions raise them."""
    try:
        yield
    except sqlite3.Error as error:
        for raised, persistence_error in _ERRORS:
            if isinstance(error, raised):
                raise persistence_error(error) from error
        raise
