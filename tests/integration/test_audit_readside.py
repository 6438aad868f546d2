"""The audit read side against the real broker, on SQLite and on PostgreSQL.

Every message of every topic lands once in the history index, also across a crash in the middle
of the load; an invalid message goes to the dead-letter topic; every read of a history is a
signed `PatientHistoryRead` on the audit topic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import InfrastructureFactory

from bench.synthetic import PRODUCERS, SyntheticNetwork, produce
from carenet_audit.projection import HistoryIndex
from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.keys import DevKeyring
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_devtools.topics import read_records
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signature
from carenet_kit.topics import DEAD_LETTER_TOPIC, load_catalog
from carenet_kit.wire import header

from ..e2e.conftest import eventually, free_port
from .test_services import persistence

AUDITOR = "AUD-WANG"
CASE_MANAGER = "SW-NS-LI"
"""Demo users (reference/demo-users.yaml): an auditor, and a social worker, who may not."""

__all__ = ["persistence"]  # the fixture: SQLite, then PostgreSQL


@dataclass
class ReadSide:
    bootstrap: str
    namespace: str
    process: ServiceProcess
    run_dir: Path
    store_env: dict[str, str]

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    def indexed(self) -> int:
        """How many messages the service's own store holds (read beside the running service)."""
        factory = InfrastructureFactory.construct(self.store_env)  # type: ignore[var-annotated]
        try:
            return HistoryIndex.construct(factory).count()
        finally:
            factory.close()

    def network(self) -> SyntheticNetwork:
        """A synthetic network signing with the run's keys, which the service trusts."""
        keyring = DevKeyring(self.run_dir / "keys")
        return SyntheticNetwork({p: keyring.signer(p) for p in PRODUCERS})

    def alive(self) -> bool:
        """The process answers (`/healthz`); its store exists, its load may have begun."""
        try:
            return httpx.get(f"{self.process.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def ask(self, patient_id: UUID, who: str) -> httpx.Response:
        token = DevIssuer(self.run_dir / "keys").token_of(who)
        return httpx.post(
            f"{self.process.url}/v1/patient-histories",
            json={
                "patient_id": str(patient_id),
                "purpose": "compliance-audit",
                "justification": "AUD-2026-017",
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )


def store_env(persistence: dict[str, str], run_dir: Path) -> dict[str, str]:
    if persistence["CARENET_PERSISTENCE"] == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(run_dir / "data" / "audit.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": persistence["CARENET_POSTGRES_HOST"],
        "POSTGRES_PORT": persistence["CARENET_POSTGRES_PORT"],
        "POSTGRES_USER": persistence["CARENET_POSTGRES_USER"],
        "POSTGRES_PASSWORD": persistence["CARENET_POSTGRES_PASSWORD"],
        "POSTGRES_DBNAME": persistence["CARENET_POSTGRES_DBNAME"],
        "POSTGRES_SCHEMA": "audit",
        "CREATE_TABLE": "n",
    }


@pytest.fixture
def read_side(
    kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[ReadSide]:
    namespace = f"it-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    env = {
        "CARENET_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CARENET_TOPIC_NAMESPACE": namespace,
        "CARENET_HISTORY_BATCH_SIZE": "25",
        **persistence,
    }
    process = service_processes(tmp_path, env, ports={n: free_port() for n in SERVICES})["audit"]
    yield ReadSide(kafka_bootstrap, namespace, process, tmp_path, store_env(persistence, tmp_path))
    process.stop()


def test_every_message_is_indexed_exactly_once_across_a_crash_mid_load(
    read_side: ReadSide,
) -> None:
    network = read_side.network()
    patients = run_sync(produce(read_side.bootstrap, read_side.namespace, network, 300, 2))
    total = len(patients) * 4 * 2
    read_side.process.start()
    # not `wait_ready()`: the service is ready only once the index has caught up
    eventually(read_side.alive, every=0.05)
    at_crash = eventually(lambda: read_side.indexed() or None, every=0.02)
    read_side.process.kill()
    assert at_crash < total, "the load ended before the crash: the test proves nothing"

    read_side.process.start()
    read_side.process.wait_ready()
    eventually(lambda: read_side.indexed() >= total or None, timeout=60)

    assert read_side.indexed() == total
    history = read_side.ask(patients[7], AUDITOR).json()["messages"]
    assert len(history) == 8
    assert {m["producer"] for m in history} == {"intake", "routing", "casework", "notifications"}
    for producer in ("intake", "routing", "casework", "notifications"):
        sequences = [m["sequence"] for m in history if m["producer"] == producer]
        assert sequences == [1, 2]


def test_an_invalid_message_goes_to_the_dead_letter_topic_and_the_load_goes_on(
    read_side: ReadSide,
) -> None:
    read_side.process.start()
    read_side.process.wait_ready()
    network = read_side.network()
    patient = uuid4()
    messages = list(network.patient(patient, 1))

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=read_side.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                read_side.topic("intake"), b'{"event_type": "Nonsense"}', key=patient.bytes
            )
            for m in messages:
                await producer.send_and_wait(
                    read_side.topic(m.producer), m.value, key=m.key, headers=m.headers
                )
        finally:
            await producer.stop()

    run_sync(send())

    assert eventually(lambda: read_side.indexed() == len(messages) or None)
    # dead-lettered once in the service, by the first of its loaders of intake's topic (the
    # history index's; the access graph's only counts it), as not signed
    [letter] = eventually(
        lambda: run_sync(read_records(read_side.bootstrap, read_side.namespace + DEAD_LETTER_TOPIC))
    )
    consumer = header(list(letter.headers), "carenet_dlq_consumer")
    assert consumer == f"{read_side.namespace}carenet-audit-history"
    assert header(list(letter.headers), "carenet_dlq_reason") == "forged: unsigned"
    assert header(list(letter.headers), "carenet_dlq_topic") == read_side.topic("intake")


def test_every_read_granted_or_denied_is_a_signed_event_on_the_audit_topic(
    read_side: ReadSide,
) -> None:
    read_side.process.start()
    read_side.process.wait_ready()
    network = read_side.network()
    [patient] = run_sync(produce(read_side.bootstrap, read_side.namespace, network, 1, 3))
    eventually(lambda: read_side.indexed() == 12 or None)

    granted = read_side.ask(patient, AUDITOR)
    denied = read_side.ask(patient, CASE_MANAGER)

    assert granted.status_code == 200
    messages = granted.json()["messages"]
    assert len(messages) == 12
    assert all(
        network.trusted.problem_with(
            m["producer"], m["value"].encode(), Signature(m["key_id"], m["signature"])
        )
        is None
        for m in messages
    )
    assert denied.status_code == 403
    records = eventually(
        lambda: (r := run_sync(read_records(read_side.bootstrap, read_side.topic("audit"))))[1:]
        and r
    )
    trusted = DevKeyring(read_side.run_dir / "keys").trusted()
    reads: list[dict[str, Any]] = []
    for record in records:
        signature = Signature(
            header(list(record.headers), KEY_ID_HEADER) or "",
            header(list(record.headers), SIGNATURE_HEADER) or "",
        )
        assert trusted.problem_with("audit", record.value, signature) is None
        reads.append(json.loads(record.value))
    assert [(r["patient_id"], r["data"]["outcome"]) for r in reads] == [
        (str(patient), "granted"),
        (str(patient), "denied"),
    ]
    assert [r["sequence"] for r in reads] == [1, 2]
    # the reads are part of the patient's history from now on
    eventually(lambda: read_side.indexed() == 14 or None)
    later = read_side.ask(patient, AUDITOR).json()["messages"]
    assert [m["event_type"] for m in later].count("PatientHistoryRead") == 2
