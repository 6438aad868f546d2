"""Per-subject keys in a service's own store, on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory

from carenet_kit.keystore import KeyDestroyed, KeyStore, SQLiteKeyStore, master_key

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


def test_a_subjects_key_is_created_once_and_read_back(factory: InfrastructureFactory) -> None:
    keys = KeyStore.construct(factory, MASTER, "personal-data")
    subject = uuid4()
    assert keys.get(subject) is None
    key = keys.create(subject)
    assert len(key) == 32
    assert keys.create(subject) == key  # idempotent
    assert keys.get(subject) == key
    assert keys.get(uuid4()) is None


def test_a_destroyed_key_is_gone_and_never_made_again(factory: InfrastructureFactory) -> None:
    keys = KeyStore.construct(factory, MASTER, "personal-data")
    subject, other = uuid4(), uuid4()
    keys.create(subject)
    other_key = keys.create(other)
    assert keys.destroy(subject) is True
    assert keys.get(subject) is None
    assert keys.destroy(subject) is False  # a second erasure changes nothing
    with pytest.raises(KeyDestroyed):
        keys.create(subject)
    assert keys.get(other) == other_key


def test_destroying_a_subject_that_had_no_key_keeps_it_keyless(
    factory: InfrastructureFactory,
) -> None:
    keys = KeyStore.construct(factory, MASTER, "contact")
    subject = uuid4()
    assert keys.destroy(subject) is False
    with pytest.raises(KeyDestroyed):
        keys.create(subject)


def test_purposes_keep_their_own_keys(factory: InfrastructureFactory) -> None:
    subject = uuid4()
    personal = KeyStore.construct(factory, MASTER, "personal-data")
    contact = KeyStore.construct(factory, MASTER, "contact")
    assert personal.create(subject) != contact.create(subject)
    contact.destroy(subject)
    assert personal.get(subject) is not None


def test_keys_do_not_unwrap_with_another_master_key(factory: InfrastructureFactory) -> None:
    subject = uuid4()
    KeyStore.construct(factory, MASTER, "personal-data").create(subject)
    with pytest.raises(ValueError, match="does not unwrap"):
        KeyStore.construct(factory, os.urandom(32), "personal-data").get(subject)


def test_sqlite_files_keep_no_byte_of_a_destroyed_wrapped_key(tmp_path: Path) -> None:
    path = tmp_path / "service.sqlite"
    factory = InfrastructureFactory.construct(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )
    keys = KeyStore.construct(factory, MASTER, "personal-data")
    assert isinstance(keys, SQLiteKeyStore)
    subjects = [uuid4() for _ in range(20)]
    for subject in subjects:
        keys.create(subject)
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
