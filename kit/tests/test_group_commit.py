"""Group commit (`carenet_kit.group_commit`): a consumed batch's commands in one SQLite transaction.

What must hold: one commit (one wait for the disk) per batch, not one per command; the group's
own reads see its writes and nobody else sees them before the commit; a failed command is undone
alone; a process that dies before the commit leaves none of the group, and the batch taken again
applies each message once (judged by the tracked offsets and the effects counted in the store);
a group rolled back while a worker still runs a command waits for it, and takes nothing more.
And the datastore's readers do not queue behind a thread waiting for the writer.

Shared commits (`SharedCommits`), for concurrent callers outside a group as HTTP requests are:
callers arriving while a commit is under way share the next one; every caller, when it
returns, finds its writes committed; a failed caller's writes are undone alone; a commit that
fails fails every caller whose writes it held, and keeps none of them. Real SQLite
files, no broker: `take` is what the agent calls with each batch faust hands it.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import OperationalError, PersistenceError
from eventsourcing.sqlite import SQLiteConnection, SQLiteDatastore

from bench.synthetic import SyntheticNetwork
from carenet_contracts import Envelope, Producer
from carenet_kit import group_commit
from carenet_kit.admission import Gate
from carenet_kit.application import ServiceApplication
from carenet_kit.inbound import InboundConsumer, faust_app
from carenet_kit.inspection import Record
from carenet_kit.outbox import Cause
from carenet_kit.topics import load_catalog

NETWORK = SyntheticNetwork()
INTAKE = load_catalog().topic_of("intake").name
CALLERS = 16
SLOW_DISK_SECONDS = 0.05


class Seen(Aggregate):
    def __init__(self, event_id: UUID) -> None:
        self.event_id = event_id


class Acting(ServiceApplication):
    """Acts on every message; `on_message` is called before each effect."""

    producer: ClassVar[Producer] = "casework"

    def __init__(self, env: dict[str, str], exit_on: int | None = None) -> None:
        super().__init__(env, outbound=lambda _: None)
        self.taken = 0
        self.exit_on = exit_on
        self.seen_outside: list[int] = []

    def policy(self, envelope: Envelope[Any], cause: Cause) -> None:
        self.taken += 1
        if self.taken == self.exit_on:
            os._exit(9)  # the process dies: no rollback, no shutdown code
        self.seen_outside.append(committed_effects(self.env["SQLITE_DBNAME"]))
        self.commit(Seen(envelope.event_id), cause=cause)

    def effects(self) -> int:
        return self.process_recorder.max_notification_id() or 0


def committed_effects(db_name: str) -> int:
    """What a reader outside the group (another datastore on the file) sees."""
    outside = SQLiteDatastore(db_name)
    try:
        with outside.transaction(commit=False) as cursor:
            cursor.execute("SELECT COUNT(*) FROM stored_events WHERE topic LIKE '%Seen%'")
            return int(cursor.fetchone()[0])
    finally:
        outside.close()


def batch(patients: int) -> list[Record]:
    """One intake message of each of `patients` patients, on one partition at offsets 0, 1, …"""
    messages = [next(iter(NETWORK.patient(uuid4(), 1))) for _ in range(patients)]
    assert all(m.producer == "intake" for m in messages)
    return [
        Record(INTAKE, 0, offset, m.key, m.value, m.headers) for offset, m in enumerate(messages)
    ]


def take(app: Acting, records: list[Record], directory: Path) -> None:
    unstarted = faust_app(f"test-{uuid4().hex[:8]}", "127.0.0.1:1", directory / "faust")
    gate = Gate(json.loads(NETWORK.key_set_json()))
    consumer = InboundConsumer(unstarted, app, [INTAKE], "unused", app.policy, gate)
    asyncio.run(consumer.take(records))


def env(directory: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / "s")}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Acting]:
    application = Acting(env(tmp_path))
    yield application
    application.close()


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """Every commit of a SQLite connection (each one waits for the disk)."""
    return counted_commits(monkeypatch, seconds=0.0)


@pytest.fixture
def slow_commits(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """The same, on a slow disk: callers queue behind each commit, as under load."""
    return counted_commits(monkeypatch, seconds=SLOW_DISK_SECONDS)


def counted_commits(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[None]:
    counted: list[None] = []
    commit = SQLiteConnection.commit

    def counting(connection: SQLiteConnection) -> None:
        counted.append(None)
        time.sleep(seconds)
        commit(connection)

    monkeypatch.setattr(SQLiteConnection, "commit", counting)
    return counted


def test_a_batch_of_effects_is_one_commit_and_invisible_outside_until_it(
    app: Acting, tmp_path: Path, commits: list[None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a machine under load may take longer than the group's time bound over 20 commands:
    # that bound has its own test below
    monkeypatch.setattr(group_commit, "GROUP_SECONDS", 60.0)
    records = batch(20)
    take(app, records, tmp_path)
    assert app.effects() == 20
    assert app.process_recorder.max_tracking_id(f"{INTAKE}:0") == 19
    assert len(commits) == 1
    # nothing of the group was seen outside it before its commit, though each command saw the
    # one before (its PublishedStream and tracking records were read in the group)
    assert app.seen_outside == [0] * 20


def test_without_a_group_each_effect_is_a_commit(
    app: Acting, tmp_path: Path, commits: list[None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The negative control: the same batch with grouping removed."""
    monkeypatch.setattr(group_commit, "grouping", lambda factory: group_commit.Group(None, 0.0))
    take(app, batch(20), tmp_path)
    assert app.effects() == 20
    assert len(commits) >= 20
    assert app.seen_outside == list(range(20))


def test_a_group_held_too_long_commits_what_it_has(
    app: Acting, tmp_path: Path, commits: list[None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "GROUP_SECONDS", 0.0)
    take(app, batch(5), tmp_path)
    assert app.effects() == 5
    assert len(commits) == 5
    assert app.seen_outside == list(range(5))


def _die_in_the_batch(directory: Path, records: list[Record], exit_on: int) -> None:
    take(Acting(env(directory), exit_on=exit_on), records, directory)


def test_a_process_dying_in_a_group_leaves_none_of_it_and_the_batch_again_applies_each_once(
    tmp_path: Path,
) -> None:
    records = batch(12)
    first = Acting(env(tmp_path))  # makes the tables
    first.close()
    child = multiprocessing.get_context("fork").Process(
        target=_die_in_the_batch, args=(tmp_path, records, 9)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 9  # it died on the ninth message, eight commands into its group
    again = Acting(env(tmp_path))
    try:
        assert again.effects() == 0
        assert again.process_recorder.max_tracking_id(f"{INTAKE}:0") is None
        take(again, records, tmp_path)  # faust never acknowledged the batch: it comes again
        assert again.effects() == 12
        assert again.process_recorder.max_tracking_id(f"{INTAKE}:0") == 11
        take(again, records, tmp_path)  # and once more, all of it tracked: nothing twice
        assert again.effects() == 12
    finally:
        again.close()


def failing_command(app: Acting) -> None:
    datastore: SQLiteDatastore = app.factory.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("DELETE FROM stored_events")
        raise RuntimeError("the command fails after writing")


def test_a_failed_command_is_undone_alone(app: Acting) -> None:
    group = group_commit.grouping(app.factory)
    with group.current():
        app.save(Seen(uuid4()))
        with pytest.raises(RuntimeError, match="after writing"):
            failing_command(app)
        app.save(Seen(uuid4()))
        group.commit()
    assert committed_effects(app.env["SQLITE_DBNAME"]) == 2


def test_a_rolled_back_group_waits_for_its_running_command_and_takes_nothing_more(
    app: Acting,
) -> None:
    group = group_commit.grouping(app.factory)
    inside, finish = threading.Event(), threading.Event()

    def command() -> None:
        datastore: SQLiteDatastore = app.factory.datastore  # type: ignore[attr-defined]
        with group.current(), datastore.transaction(commit=True) as cursor:
            inside.set()
            finish.wait(10)
            cursor.execute("SELECT 1")  # would run on a connection rolled back under it

    worker = threading.Thread(target=command)
    worker.start()
    assert inside.wait(10)
    rolling_back = threading.Thread(target=group.rollback)
    rolling_back.start()
    rolling_back.join(0.2)
    assert rolling_back.is_alive()  # it waits for the command
    finish.set()
    worker.join(10)
    rolling_back.join(10)
    assert not rolling_back.is_alive()
    with group.current(), pytest.raises(PersistenceError, match="rolled back"):
        app.save(Seen(uuid4()))
    app.save(Seen(uuid4()))  # outside the group the store works as before
    assert app.effects() == 1


def test_a_reader_does_not_wait_behind_a_thread_waiting_for_the_writer(app: Acting) -> None:
    """The library's pool queues every request for a connection in one line, and a request for
    the writer waits for it in that line; the readers' pool of their own lets reads pass."""
    datastore: SQLiteDatastore = app.factory.datastore  # type: ignore[attr-defined]
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with datastore.transaction(commit=True):
            holding.set()
            release.wait(10)

    def want_the_writer() -> None:
        with suppress(PersistenceError), datastore.transaction(commit=True):
            pass

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    assert holding.wait(10)
    waiter = threading.Thread(target=want_the_writer)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # queued for the writer
    reader = threading.Thread(target=app.effects)
    reader.start()
    reader.join(3)
    read_while_the_writer_was_held = not reader.is_alive()
    release.set()
    for thread in (holder, waiter, reader):
        thread.join(10)
    assert read_while_the_writer_was_held


# -- shared commits: concurrent callers outside a group, as HTTP requests are ----------------


def concurrently(callers: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run the callers in threads started together; what each raised, if anything."""
    outcomes: list[BaseException | None] = [None] * len(callers)
    start = threading.Barrier(len(callers))

    def run(index: int) -> None:
        start.wait()
        try:
            callers[index]()
        except BaseException as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(callers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def save_and_look(app: Acting, seen_on_return: list[int]) -> Callable[[], None]:
    def caller() -> None:
        app.save(Seen(uuid4()))
        seen_on_return.append(committed_effects(app.env["SQLITE_DBNAME"]))

    return caller


def test_concurrent_callers_share_commits_and_return_only_once_committed(
    app: Acting, slow_commits: list[None]
) -> None:
    seen_on_return: list[int] = []
    outcomes = concurrently([save_and_look(app, seen_on_return) for _ in range(CALLERS)])
    assert outcomes == [None] * CALLERS
    assert app.effects() == CALLERS
    assert len(slow_commits) <= CALLERS // 2  # the ones queued behind a commit shared the next
    # each caller found its own write committed: at least as many as had returned
    assert all(seen >= rank + 1 for rank, seen in enumerate(sorted(seen_on_return)))


def test_without_shared_commits_each_caller_commits(
    app: Acting, slow_commits: list[None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The negative control: the datastore without its shared commits."""
    monkeypatch.setattr(app.factory.datastore, "shared", None)  # type: ignore[attr-defined]
    outcomes = concurrently([save_and_look(app, []) for _ in range(CALLERS)])
    assert outcomes == [None] * CALLERS
    assert len(slow_commits) == CALLERS


def test_a_failed_caller_is_undone_alone(app: Acting, slow_commits: list[None]) -> None:
    callers: list[Callable[[], object]] = [lambda: app.save(Seen(uuid4())) for _ in range(7)]
    outcomes = concurrently([*callers, lambda: failing_command(app)])
    assert [type(o) for o in outcomes] == [type(None)] * 7 + [RuntimeError]
    assert committed_effects(app.env["SQLITE_DBNAME"]) == 7


def test_a_failed_commit_fails_every_caller_it_held(
    app: Acting, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = SQLiteConnection.commit

    def disk_full(connection: SQLiteConnection) -> None:
        time.sleep(SLOW_DISK_SECONDS)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SQLiteConnection, "commit", disk_full)
    outcomes = concurrently([lambda: app.save(Seen(uuid4())) for _ in range(CALLERS)])
    monkeypatch.setattr(SQLiteConnection, "commit", commit)
    assert all(isinstance(o, OperationalError) for o in outcomes), outcomes
    assert committed_effects(app.env["SQLITE_DBNAME"]) == 0
    app.save(Seen(uuid4()))  # the store works again once the disk does
    assert committed_effects(app.env["SQLITE_DBNAME"]) == 1
