"""Crash and restart: each service SIGKILLed after a few thousand patients and started again.

Given a signed, chained history of 2,000 patients in the topics (`bench.synthetic`), which every
service's access graph and audit's history index load at the first start (the command
consumers start after it, as if it came before them), and real patients through the five
service processes (their stores, outboxes and read models), when each service in turn is
SIGKILLed (no shutdown code runs, so no shutdown snapshot), its consumer group is set back to
where it first started (a crash before the offset commit, made certain: everything it took is
delivered again), a few patients arrive while it is down, and it starts again on the same data
directory, then it is ready having read into its access graph (and audit's history index) only
what was published after the positions stored with them (`carenet_events_consumed_total`), and
having applied to its read model only the events recorded after its snapshot
(`carenet_read_model_events_applied_total`). After all five restarts nothing has happened
twice: every stream of every topic is 1..n, each real patient has one diagnosis, one route, one
case and one case manager, no notification was delivered twice, nothing was dead-lettered or
refused, every consumed offset is tracked; and each read model, as the service holds it when
it stops, equals a rebuild of the store from position 0.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from bench.consumer import partition_ends
from bench.synthetic import PRODUCERS, SyntheticNetwork, produce
from carenet_access.graph import SOURCES
from carenet_audit.config import CONSUMED as AUDITED
from carenet_casework.projection_recovery import CaseworkBoard
from carenet_contracts import Envelope, parse_message
from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.keys import DevKeyring
from carenet_devtools.rebuilds import diverging_tables, events_up_to
from carenet_devtools.services import SERVICES, service_processes
from carenet_devtools.topics import (
    committed_offsets,
    has_members,
    read_records,
    set_consumer_group,
)
from carenet_intake.projection import HospitalRegister
from carenet_kit.application import ServiceApplication
from carenet_kit.read_model_snapshots import ReadModelCodec, snapshot_table
from carenet_kit.read_model_tables import SqlReadModel
from carenet_kit.topics import DEAD_LETTER_TOPIC
from carenet_notifications.projection import Inboxes
from carenet_routing.projection import RoutingBoard

from .conftest import System, eventually, free_port
from .pathway import CLINICIAN, diagnose_new_patient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

HISTORY_PATIENTS = 2_000
HISTORY_EVENTS = 1
"""Per producer and patient: 8,000 messages on the four producers' topics."""
PATIENTS = 40
"""Real patients before the first crash."""
WHILE_DOWN = 5
"""Real patients diagnosed while a service is down (but intake), and after the last restart."""
SNAPSHOT_EVERY = 50
"""Events between two snapshots of a read model: well below what each store holds, so a start
that ignored its snapshot would apply several times what the test allows."""
READ_MODELS: dict[str, type[Any]] = {
    "intake": HospitalRegister,
    "routing": RoutingBoard,
    "casework": CaseworkBoard,
    "notifications": Inboxes,
}
CONSUMES = {
    "intake": ("routing", "casework"),
    "routing": ("intake", "casework"),
    "casework": ("routing", "intake"),
    "notifications": ("intake", "routing", "casework", "audit"),
}
"""The producers whose topics each service's command consumer (the inbound agent) takes."""
ONCE_PER_PATIENT = (
    ("intake", "DiagnosisRecorded"),
    ("routing", "PatientRouted"),
    ("casework", "CaseOpened"),
    ("casework", "CaseManagerAssigned"),
)
TOPICS = (*PRODUCERS, "audit")

Samples = list[tuple[str, dict[str, str], float]]


@dataclass
class Crashed:
    """The running system and what the test has done to it."""

    system: System
    history_ends: dict[TopicPartition, int]
    """Where the topics ended when the services first started: where their groups began."""
    patients: list[str] = field(default_factory=list)
    """The real patients, diagnosed at intake, in order."""
    snapshots_at_kill: dict[str, int] = field(default_factory=dict)
    """Each read model's snapshot position when its service was killed: what it held later
    must be newer, or it would not be the restarted process' own."""

    def group(self, service: str) -> str:
        return f"{self.system.namespace}carenet-{service}"

    def store(self, service: str, kind: str = "") -> Path:
        """The service's SQLite file, or its access graph's (`kind="access"`)."""
        data_dir = Path(self.system.processes[service].env["CARENET_DATA_DIR"])
        return data_dir / ".".join((service, *([kind] if kind else []), "sqlite"))

    def ends(self, producers: Sequence[str]) -> dict[TopicPartition, int]:
        topics = {self.system.topic(p) for p in producers}
        return {tp: end for tp, end in topic_ends(self.system).items() if tp.topic in topics}

    def rewind(self, service: str) -> int:
        """Set the killed service's group back to where it first started, as if it had crashed
        before committing any offset; how many messages it will be given again."""
        bootstrap, group = self.system.bootstrap, self.group(service)
        partitions = list(self.ends(CONSUMES[service]))
        taken = run_sync(committed_offsets(bootstrap, group, partitions))
        start = {tp: self.history_ends[tp] for tp in partitions}
        eventually(lambda: not run_sync(has_members(bootstrap, group)), timeout=60, every=0.5)
        run_sync(set_consumer_group(bootstrap, group, start))
        return sum(offset - start[tp] for tp, offset in taken.items())

    def diagnose(self, patients: int) -> None:
        with self.system.client("intake", CLINICIAN) as intake:
            for _ in range(patients):
                self.patients.append(diagnose_new_patient(intake, len(self.patients) + 1))

    def settle(self) -> None:
        """Until every real patient has a case manager and every group has taken everything."""
        topic = self.system.topic("casework")

        def assigned() -> bool:
            found = {
                str(m.patient_id)
                for m in envelopes(self.system, topic, self.patients)
                if m.event_type == "CaseManagerAssigned"
            }
            return found >= set(self.patients)

        eventually(assigned, timeout=120, every=1)  # a stuck partition fails here
        for service, producers in CONSUMES.items():
            self.system.wait_until_consumed(service, list(producers), timeout=120)


@dataclass(frozen=True)
class AtKill:
    """What a SIGKILLed service left in its stores."""

    graph: dict[str, int]
    """The access graph's tracked offsets, by `topic:partition`."""
    store: dict[str, int]
    """The service's own tracked offsets (inbound agent; audit: history index)."""
    snapshot: int
    """The notification id its read model's snapshot (or tables) holds (0: none, or no read
    model)."""
    recorded: int
    """The events in its store."""
    unapplied: int
    """The events in its store after the snapshot's position: what a start must apply."""


def at_kill(crashed: Crashed, service: str) -> AtKill:
    store = crashed.store(service)
    model = READ_MODELS.get(service)
    snapshot = (snapshot_position(store, model) if model else None) or 0
    return AtKill(
        tracked(crashed.store(service, "access")),
        tracked(store),
        snapshot,
        count(store),
        count(store, after=snapshot),
    )


def query(path: Path, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute(sql, parameters).fetchall()


def tracked(path: Path) -> dict[str, int]:
    rows = query(path, "SELECT application_name, MAX(notification_id) FROM tracking GROUP BY 1")
    return {str(name): int(offset) for name, offset in rows}


def snapshot_position(path: Path, read_model: type[Any]) -> int | None:
    """The position stored with the read model: its snapshot's, or its tables'."""
    in_tables = issubclass(read_model, SqlReadModel)
    table = "read_model_positions" if in_tables else "read_model_snapshots"
    rows = query(path, f"SELECT position FROM {table} WHERE name = ?", read_model.__qualname__)
    return int(rows[0][0]) if rows else None


def count(path: Path, after: int = 0) -> int:
    """The events (notifications) in the store after a position."""
    return int(query(path, "SELECT COUNT(*) FROM stored_events WHERE rowid > ?", after)[0][0])


def unread(ends: Mapping[TopicPartition, int], positions: Mapping[str, int]) -> int:
    """The messages after the tracked positions, up to the partitions' ends."""
    return sum(
        end - positions.get(f"{tp.topic}:{tp.partition}", -1) - 1 for tp, end in ends.items()
    )


def topic_ends(system: System) -> dict[TopicPartition, int]:
    return {
        TopicPartition(system.topic(producer), partition): end
        for producer in TOPICS
        for partition, end in run_sync(
            partition_ends(system.bootstrap, system.topic(producer))
        ).items()
    }


def envelopes(
    system: System, topic: str, patients: Collection[str] | None = None
) -> list[Envelope[Any]]:
    """The topic's messages; only those about `patients` if given (by key: nothing else is
    parsed)."""
    keys = None if patients is None else {p.encode() for p in patients}
    records = run_sync(read_records(system.bootstrap, topic))
    return [parse_message(r.value) for r in records if r.value and (keys is None or r.key in keys)]


def scrape(system: System, service: str) -> Samples:
    response = httpx.get(f"{system.processes[service].url}/metrics", timeout=10)
    assert response.status_code == 200
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    ]


def total(samples: Samples, name: str, **labels: str) -> int:
    return int(
        sum(
            value
            for sample, have, value in samples
            if sample == name and all(have.get(k) == v for k, v in labels.items())
        )
    )


@pytest.fixture(scope="module")
def crashed(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crashed]:
    """The five services started on a namespace that already holds the synthetic history."""
    namespace = f"restart-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    run_dir = tmp_path_factory.mktemp("restart")
    processes = service_processes(
        run_dir,
        {
            "CARENET_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "CARENET_TOPIC_NAMESPACE": namespace,
            "CARENET_REFERENCE_FILE": str(
                Path(__file__).parents[2] / "reference" / "demo-directory.yaml"
            ),
            "CARENET_READ_MODEL_SNAPSHOT_EVERY": str(SNAPSHOT_EVERY),
            "CARENET_READ_MODEL_SNAPSHOT_SECONDS": "3600",  # by count only
            "CARENET_CONSUMER_LAG_SECONDS": "1",
            "CARENET_CONSUMER_SESSION_TIMEOUT_SECONDS": "6",  # a killed member leaves soon
        },
        ports={name: free_port() for name in SERVICES},
    )
    system = System(kafka_bootstrap, namespace, processes, DevIssuer(run_dir / "keys"))
    keys = DevKeyring(run_dir / "keys")  # those the services trust
    network = SyntheticNetwork({p: keys.signer(p) for p in PRODUCERS})
    run_sync(produce(kafka_bootstrap, namespace, network, HISTORY_PATIENTS, HISTORY_EVENTS))
    history_ends = topic_ends(system)
    for service in SERVICES:
        run_sync(set_consumer_group(kafka_bootstrap, f"{namespace}carenet-{service}", history_ends))
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready(timeout=300)
        crashed = Crashed(system, history_ends)
        crashed.diagnose(PATIENTS)
        crashed.settle()
        yield crashed
    finally:
        for process in processes.values():
            process.stop()


@pytest.mark.parametrize("service", SERVICES)
def test_a_killed_service_is_ready_again_having_read_only_what_is_new(
    crashed: Crashed, service: str
) -> None:
    system, process = crashed.system, crashed.system.processes[service]
    process.kill()
    left = at_kill(crashed, service)
    if service != "intake":
        crashed.diagnose(WHILE_DOWN)
    redelivered = crashed.rewind(service) if service in CONSUMES else 0
    ends_at_start = crashed.ends(TOPICS)

    started = time.perf_counter()
    process.start()
    process.wait_ready()
    seconds = time.perf_counter() - started
    crashed.settle()
    samples = scrape(system, service)
    ends_now = crashed.ends(TOPICS)

    def loaded(loader: str, producers: Sequence[str], positions: dict[str, int]) -> str:
        """What a batch consumer read since the start: at least what lay after its stored
        positions when it started, at most what lies after them now, and a small part of the
        topics (from offset 0 it would read them all)."""
        topics = {system.topic(p) for p in producers}
        at_start = {tp: end for tp, end in ends_at_start.items() if tp.topic in topics}
        now = {tp: end for tp, end in ends_now.items() if tp.topic in topics}
        name = f"{crashed.group(service)}-{loader}"
        read = total(samples, "carenet_events_consumed_total", consumer=name)
        assert unread(at_start, positions) <= read <= unread(now, positions), loader
        held = sum(now.values())
        assert read < held / 20, loader
        return f"{loader} read {read:,} of the {held:,} messages its topics hold"

    figures = [
        f"{service}: ready {seconds:.1f} s after its start",
        loaded("access", SOURCES, left.graph),
    ]
    if service == "audit":
        figures.append(loaded("history", AUDITED, left.store))
    if service in READ_MODELS:
        assert left.snapshot > 0, "no snapshot of the read model before the kill"
        crashed.snapshots_at_kill[service] = left.snapshot
        name = READ_MODELS[service].__qualname__
        applied = total(samples, "carenet_read_model_events_applied_total", read_model=name)
        assert left.unapplied <= applied <= count(crashed.store(service), after=left.snapshot)
        figures.append(
            f"{name} applied {applied:,} events after its snapshot at {left.snapshot:,} "
            f"(store: {left.recorded:,} events at the kill)"
        )
    if service in CONSUMES:
        taken = total(samples, "carenet_events_consumed_total", consumer="inbound")
        assert taken >= redelivered > 0
        figures.append(f"inbound agent took {taken:,} messages, {redelivered:,} of them again")
    print("; ".join(figures))


def test_after_the_restarts_nothing_has_happened_twice(crashed: Crashed) -> None:
    system = crashed.system
    crashed.diagnose(WHILE_DOWN)  # every read model applies something after its restart
    crashed.settle()
    published = {p: envelopes(system, system.topic(p)) for p in TOPICS}

    for producer, messages in published.items():
        streams: dict[str, list[int]] = defaultdict(list)
        for message in messages:
            streams[str(message.patient_id)].append(message.sequence)
        assert all(s == list(range(1, len(s) + 1)) for s in streams.values()), producer
    for producer, event_type in ONCE_PER_PATIENT:
        of = Counter(str(m.patient_id) for m in published[producer] if m.event_type == event_type)
        assert {patient: of[patient] for patient in crashed.patients} == dict.fromkeys(
            crashed.patients, 1
        ), event_type
    deliveries = Counter(
        (m.data.about_event_id, m.data.recipient, m.data.channel)
        for m in published["notifications"]
        if m.event_type == "NotificationDelivered" and str(m.patient_id) in crashed.patients
    )
    assert len(deliveries) >= len(crashed.patients)
    assert max(deliveries.values()) == 1
    assert run_sync(read_records(system.bootstrap, system.namespace + DEAD_LETTER_TOPIC)) == []
    for service in SERVICES:
        assert total(scrape(system, service), "carenet_messages_refused_total") == 0, service

    for service, producers in CONSUMES.items():
        positions = tracked(crashed.store(service))
        taken = {
            tp: end for tp, end in crashed.ends(producers).items() if end > crashed.history_ends[tp]
        }
        assert {tp: positions.get(f"{tp.topic}:{tp.partition}") for tp in taken} == {
            tp: end - 1 for tp, end in taken.items()
        }, service


def test_each_read_model_as_the_restarted_service_holds_it_equals_a_rebuild(
    crashed: Crashed, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = crashed.system
    for process in system.processes.values():
        process.stop()  # SIGTERM: each read model snapshots what it holds
    for service, read_model in READ_MODELS.items():
        with monkeypatch.context() as patch:
            for name, value in system.processes[service].env.items():
                patch.setenv(name, value)
            started = import_module(f"carenet_{service}.main").bootstrap()
            application = started.application
        try:
            if isinstance(started.projection, SqlReadModel):
                assert_same_tables(started.projection, crashed.snapshots_at_kill.get(service, 0))
                continue
            table = snapshot_table(application)
            assert table is not None
            snapshot = table.load(read_model.__qualname__)
            assert snapshot is not None
            codec = ReadModelCodec(read_model)
            assert snapshot.fingerprint == codec.fingerprint
            assert snapshot.position > crashed.snapshots_at_kill.get(service, 0)  # since then
            held = codec.decode(snapshot.state)
            assert held != read_model()
            assert held == rebuilt(application, read_model, snapshot.position), service
        finally:
            application.close()


def assert_same_tables(held: SqlReadModel, at_kill: int) -> None:
    """The read model's tables, as the service left them, equal a rebuild up to their position."""
    assert held.position() > at_kill  # applied since the restart
    assert diverging_tables(held) == []
    assert held.where(held.tables[0]) != []


def rebuilt(app: ServiceApplication, read_model: type[Any], up_to: int) -> Any:
    """The read model from position 0 of the store, up to a notification id."""
    model = read_model()
    for events in events_up_to(app, up_to):
        for _, domain_event in events:
            model.apply(domain_event)
    return model
