"""The postgres fixtures give eventsourcing a real, shared, persistent database."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.postgres import PostgresApplicationRecorder

from carenet_devtools.postgres import PostgresCluster


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


def test_second_application_reads_what_the_first_saved(
    postgres_database: dict[str, str],
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", **postgres_database}
    writer: Application[UUID] = Application(env=env)
    reader: Application[UUID] = Application(env=env)
    try:
        note = Note("hello")
        writer.save(note)
        assert isinstance(reader.recorder, PostgresApplicationRecorder)
        assert reader.repository.get(note.id).text == "hello"
    finally:
        writer.close()
        reader.close()


def test_cluster_from_dsn_parses_uri_and_keyword_forms() -> None:
    expected = PostgresCluster("db.internal", 6543, "app", "s3cret", "maint")
    assert PostgresCluster.from_dsn("postgresql://app:s3cret@db.internal:6543/maint") == expected
    assert (
        PostgresCluster.from_dsn("host=db.internal port=6543 user=app password=s3cret dbname=maint")
        == expected
    )
