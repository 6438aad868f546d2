"""Per-subject keys in a service's own store, on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, StoredEvent, Tracking

from carenet_kit.keystore import KeyDestroyed, KeyStore, SQLiteKeyStore, master_key
from carenet_kit.service_recorder import service_process_recorder

MASTER = os.urandom(32)


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "service.sqlite"),
        }
    database: dict[str, str] = request.getfixturevalue("postgres_database")
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **database}


@pytest.fixture
def factory(store_env: dict[str, str]) -> Iterator[InfrastructureFactory[Any]]:
    factory = InfrastructureFactory.construct(store_env)
    yield factory
    factory.close()


def stored(factory: InfrastructureFactory[Any], keys: KeyStore, subject: UUID) -> bytes:
    """The subject's key, made for a command and recorded with its events, as services do."""
    made = keys.make(subject)
    service_process_recorder(factory).insert_events([an_event()], new_keys=made.new_keys)
    return made.key


def test_a_subjects_key_is_created_once_and_read_back(factory: InfrastructureFactory) -> None:
    keys = KeyStore.construct(factory, MASTER, "personal-data")
    subject = uuid4()
    assert keys.get(subject) is None
    key = stored(factory, keys, subject)
    assert len(key) == 32
    assert stored(factory, keys, subject) == key  # idempotent
    assert keys.get(subject) == key
    assert keys.get(uuid4()) is None


def test_a_destroyed_key_is_gone_and_never_made_again(factory: InfrastructureFactory) -> None:
    keys = KeyStore.construct(factory, MASTER, "personal-data")
    subject, other = uuid4(), uuid4()
    stored(factory, keys, subject)
    other_key = stored(factory, keys, other)
    assert keys.destroy(subject) is True
    assert keys.get(subject) is None
    assert keys.destroy(subject) is False  # a second erasure changes nothing
    with pytest.raises(KeyDestroyed):
        stored(factory, keys, subject)
    assert keys.get(other) == other_key


def test_destroying_a_subject_that_had_no_key_keeps_it_keyless(
    factory: InfrastructureFactory,
) -> None:
    keys = KeyStore.construct(factory, MASTER, "contact")
    subject = uuid4()
    assert keys.destroy(subject) is False
    with pytest.raises(KeyDestroyed):
        stored(factory, keys, subject)


def test_purposes_keep_their_own_keys(factory: InfrastructureFactory) -> None:
    subject = uuid4()
    personal = KeyStore.construct(factory, MASTER, "personal-data")
    contact = KeyStore.construct(factory, MASTER, "contact")
    assert stored(factory, personal, subject) != stored(factory, contact, subject)
    contact.destroy(subject)
    assert personal.get(subject) is not None


def test_keys_do_not_unwrap_with_another_master_key(factory: InfrastructureFactory) -> None:
    subject = uuid4()
    stored(factory, KeyStore.construct(factory, MASTER, "personal-data"), subject)
    with pytest.raises(ValueError, match="does not unwrap"):
        KeyStore.construct(factory, os.urandom(32), "personal-data").get(subject)


def an_event() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "test:Opened", b"{}")


def test_a_key_made_for_a_command_is_stored_with_its_events_or_not_at_all(
    factory: InfrastructureFactory,
) -> None:
    keys = KeyStore.construct(factory, MASTER, "contact")
    recorder = service_process_recorder(factory)
    subject, unlucky = uuid4(), uuid4()
    made = keys.make(subject)
    assert keys.get(subject) is None  # made, not yet stored

    recorder.insert_events([an_event()], tracking=Tracking("t:0", 1), new_keys=made.new_keys)

    assert keys.get(subject) == made.key
    assert keys.make(subject).key == made.key
    assert keys.make(subject).new_keys == ()  # stored: nothing more to record
    event = an_event()
    recorder.insert_events([event])
    with pytest.raises(IntegrityError):  # the command's events conflict: all is rolled back
        recorder.insert_events([event], new_keys=keys.make(unlucky).new_keys)
    assert keys.get(unlucky) is None
    assert recorder.max_tracking_id("t:0") == 1


def test_a_key_stored_or_destroyed_meanwhile_fails_the_commit_and_the_next_make_sees_it(
    factory: InfrastructureFactory,
) -> None:
    keys = KeyStore.construct(factory, MASTER, "contact")
    recorder = service_process_recorder(factory)
    stored_meanwhile, destroyed_meanwhile = uuid4(), uuid4()
    made, doomed = keys.make(stored_meanwhile), keys.make(destroyed_meanwhile)
    other = stored(
        factory, keys, stored_meanwhile
    )  # another replica, between `make` and the commit
    keys.destroy(destroyed_meanwhile)
    event = an_event()

    for new_keys in (made.new_keys, doomed.new_keys):
        with pytest.raises(IntegrityError, match="stored or destroyed meanwhile"):
            recorder.insert_events([event], new_keys=new_keys)

    assert recorder.select_events(event.originator_id) == []
    assert keys.make(stored_meanwhile).key == other  # the command, run again, publishes it
    with pytest.raises(KeyDestroyed):
        keys.make(destroyed_meanwhile)


def test_sqlite_files_keep_no_byte_of_a_destroyed_wrapped_key(tmp_path: Path) -> None:
    path = tmp_path / "service.sqlite"
    factory = InfrastructureFactory.construct(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )
    keys = KeyStore.construct(factory, MASTER, "personal-data")
    assert isinstance(keys, SQLiteKeyStore)
    subjects = [uuid4() for _ in range(20)]
    for subject in subjects:
        stored(factory, keys, subject)
    erased = subjects[7]
    with keys.datastore.transaction(commit=False) as c:
        c.execute("SELECT wrapped_key FROM subject_keys WHERE subject_id = ?", (str(erased),))
        wrapped = bytes(c.fetchone()[0])

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.glob("service.sqlite*"))

    assert wrapped in on_disk()
    keys.destroy(erased)
    assert wrapped not in on_disk()
    assert keys.get(subjects[8]) is not None
    factory.close()


def test_the_master_key_is_32_bytes_of_base64() -> None:
    assert len(master_key("Y2FyZW5ldC1kZXZlbG9wbWVudC1tYXN0ZXIta2V5ISE=")) == 32
    with pytest.raises(ValueError, match="32 bytes"):
        master_key("c2hvcnQ=")
    with pytest.raises(ValueError, match="base64"):
        master_key("not base64!")
