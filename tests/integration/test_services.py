"""Each service alone against the real broker and a real store (SQLite, then PostgreSQL).

Consume -> effect -> publish; a redelivered message changes nothing; a poison message goes to
the dead-letter topic with its reason. The tests publish hand-made messages signed with the keys
of a keyring the service trusts (`Harness.publish`), numbered in their streams as a producer's
outbox would; `Harness.produce` writes raw bytes, as a stranger would.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from carenet_contracts import Envelope
from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.keys import DevKeyring, HandMadeStreams
from carenet_devtools.postgres import PostgresCluster, create_database
from carenet_devtools.services import ServiceProcess
from carenet_devtools.topics import (
    consumer_lag,
    read_records,
    read_topic,
    rewind_consumer_group,
)
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.topics import DEAD_LETTER_TOPIC, load_catalog
from carenet_kit.wire import Headers, header

from ..e2e.conftest import eventually, free_port

REPO = Path(__file__).parents[2]
MESSAGES = REPO / "contracts" / "tests" / "messages"


class Harness:
    def __init__(
        self,
        bootstrap: str,
        namespace: str,
        process: ServiceProcess,
        issuer: DevIssuer,
        keyring: DevKeyring,
    ) -> None:
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.process = process
        self.issuer = issuer
        self.streams = HandMadeStreams(keyring)

    def client(self, user: str | None) -> httpx.Client:
        """A client of the service, calling as one of the demo users (None: anonymous)."""
        headers = {} if user is None else {"Authorization": f"Bearer {self.issuer.token_of(user)}"}
        return httpx.Client(base_url=self.process.url, timeout=30, headers=headers)

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    def produce(self, producer: str, key: bytes, value: bytes, headers: Headers = ()) -> None:
        """Raw bytes onto the producer's topic, as anyone with access to the broker could."""

        async def send() -> None:
            kafka_producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
            await kafka_producer.start()
            try:
                await kafka_producer.send_and_wait(
                    self.topic(producer), value, key=key, headers=list(headers)
                )
            finally:
                await kafka_producer.stop()

        run_sync(send())

    def publish(self, producer: str, value: bytes) -> tuple[bytes, bytes, Headers]:
        """An envelope as the producer would publish it: the next of its stream, signed with
        the producer's key the service trusts. Returns what went onto the topic."""
        key, signed, headers = self.streams.next_of(producer, json.loads(value))
        self.produce(producer, key, signed, headers)
        return key, signed, headers

    def send(self, producer: str, name: str, patient_id: str | None = None, **data: Any) -> str:
        """A committed sample message about a (fresh) patient, published by the producer."""
        _, value, patient = inbound(name, patient_id, **data)
        self.publish(producer, value)
        return patient

    def published(self, producer: str) -> list[Envelope[Any]]:
        return run_sync(read_topic(self.bootstrap, self.topic(producer)))

    def dead_letters(self) -> int:
        topic = self.namespace + DEAD_LETTER_TOPIC
        return len(run_sync(read_records(self.bootstrap, topic)))

    def dead_letters_by_consumer(self) -> Counter[str]:
        """Dead letters per consumer that gave up on them, by its name without the namespace:
        `carenet-<service>` (the inbound consumer), `carenet-<service>-access` (the loader of
        the service's access graph, which reads the topics of every producer)."""
        topic = self.namespace + DEAD_LETTER_TOPIC
        return Counter(
            (header(list(r.headers), "carenet_dlq_consumer") or "").removeprefix(self.namespace)
            for r in run_sync(read_records(self.bootstrap, topic))
        )


@pytest.fixture(params=["sqlite", "postgres"])
def persistence(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {"CARENET_PERSISTENCE": "sqlite"}
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"svc_{uuid4().hex[:12]}"
    create_database(cluster, name)
    return {
        "CARENET_PERSISTENCE": "postgres",
        "CARENET_POSTGRES_HOST": cluster.host,
        "CARENET_POSTGRES_PORT": str(cluster.port),
        "CARENET_POSTGRES_USER": cluster.user,
        "CARENET_POSTGRES_PASSWORD": cluster.password,
        "CARENET_POSTGRES_DBNAME": name,
    }


def start_service(
    name: str, bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[Harness]:
    namespace = f"it-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(bootstrap, namespace=namespace))
    issuer = DevIssuer(tmp_path / "keys")
    keyring = DevKeyring(tmp_path / "keys")
    env = {
        **issuer.env(),
        **keyring.trusted_env(),
        **keyring.env(name),
        "CARENET_KAFKA_BOOTSTRAP": bootstrap,
        "CARENET_TOPIC_NAMESPACE": namespace,
        "CARENET_DATA_DIR": str(tmp_path / "data"),
        "CARENET_REFERENCE_FILE": str(REPO / "reference" / "demo-directory.yaml"),
        "CARENET_RULE_SET_FILE": str(REPO / "rules" / "nhc-2018.yaml"),
        # a killed consumer's partitions wait out its session before they move
        "CARENET_CONSUMER_SESSION_TIMEOUT_SECONDS": "10",
        **persistence,
    }
    process = ServiceProcess(name, free_port(), env, tmp_path / f"{name}.log")
    process.start()
    try:
        process.wait_ready()
        yield Harness(bootstrap, namespace, process, issuer, keyring)
    finally:
        process.stop()


def inbound(name: str, patient_id: str | None = None, **data: Any) -> tuple[bytes, bytes, str]:
    """A committed sample message about a (fresh) patient, happening now; returns key, value
    and patient id. (The sample's own date is fixed, and the services count days from it.)"""
    raw = json.loads((MESSAGES / f"{name}.v1.json").read_text())
    raw["patient_id"] = patient_id = patient_id or str(uuid4())
    raw["event_id"] = str(uuid4())
    raw["occurred_at"] = raw["recorded_at"] = datetime.now(UTC).isoformat()
    raw["data"].update(data)
    return patient_id.encode(), json.dumps(raw).encode(), patient_id


def social_workers(center_id: str) -> list[str]:
    """The center's social workers as routing's directory, seeded from the demo directory,
    sends them with each route (casework's only roster)."""
    directory = ReferenceDirectory.load(REPO / "reference" / "demo-directory.yaml")
    return next(list(c.social_workers) for c in directory.centers if c.id == center_id)


def routed(center_id: str) -> tuple[bytes, bytes, str]:
    """A PatientRouted of today: the first visit falls due in 2 weeks, not during the test."""
    first_visit_due = date.today() + timedelta(weeks=2)
    return inbound(
        "PatientRouted",
        center_id=center_id,
        first_visit_due=first_visit_due.isoformat(),
        social_worker_ids=social_workers(center_id),
    )


def of(patient_id: str, messages: list[Envelope[Any]]) -> list[str]:
    """The care events about the patient, without the access log's `RecordAccessed` (every
    read of the patient's record over the API adds one; see `reads_of`)."""
    return [
        m.event_type
        for m in messages
        if str(m.patient_id) == patient_id and m.event_type != "RecordAccessed"
    ]


def once_known(send: Callable[[], httpx.Response]) -> httpx.Response:
    """The answer to a request about a patient once the service's access graph has heard of
    the patient from the topics; until then the patient is unknown there (404)."""

    def probe() -> httpx.Response | None:
        response = send()
        return None if response.status_code == 404 else response

    return eventually(probe)


def reads_of(patient_id: str, messages: list[Envelope[Any]]) -> list[Any]:
    """The recorded reads of the patient's record (`RecordAccessed` payloads)."""
    return [
        m.data
        for m in messages
        if str(m.patient_id) == patient_id and m.event_type == "RecordAccessed"
    ]


@pytest.fixture
def routing(kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path) -> Iterator[Harness]:
    yield from start_service("routing", kafka_bootstrap, persistence, tmp_path)


@pytest.fixture
def casework(
    kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[Harness]:
    yield from start_service("casework", kafka_bootstrap, persistence, tmp_path)


@pytest.fixture
def notifications(
    kafka_bootstrap: str, persistence: dict[str, str], tmp_path: Path
) -> Iterator[Harness]:
    yield from start_service("notifications", kafka_bootstrap, persistence, tmp_path)


def test_routing_consumes_a_diagnosis_and_publishes_the_route(routing: Harness) -> None:
    _, value, patient = inbound("DiagnosisRecorded", region_code="440305005")
    routing.publish("intake", value)
    assert eventually(lambda: of(patient, routing.published("routing"))) == ["PatientRouted"]
    routed = next(m for m in routing.published("routing") if str(m.patient_id) == patient)
    assert routed.data.center_id == "CHC-NS-SHEKOU"
    assert routed.sequence == 1


def test_casework_consumes_a_route_and_a_redelivery_changes_nothing(casework: Harness) -> None:
    _, value, patient = routed("CHC-NS-XILI")
    casework.publish("routing", value)
    opened = ["CaseOpened", "CaseManagerAssigned", "CareTeamMemberJoined"]
    published = eventually(lambda: (o := of(patient, casework.published("casework")))[2:] and o)
    assert published == opened
    casework.process.stop()
    group = f"{casework.namespace}carenet-casework"
    run_sync(rewind_consumer_group(casework.bootstrap, group, [casework.topic("routing")]))
    casework.process.start()
    casework.process.wait_ready()
    _, value2, patient2 = routed("CHC-NS-XILI")
    casework.publish("routing", value2)  # a marker, on whichever partition
    eventually(lambda: of(patient2, casework.published("casework")))
    topics = [casework.topic("routing")]
    eventually(lambda: run_sync(consumer_lag(casework.bootstrap, group, topics)) == 0 or None)
    time.sleep(1)  # a repeated effect, had there been one, would now be on the topic
    assert of(patient, casework.published("casework")) == opened


def test_notifications_deliver_once_and_poison_goes_to_the_dead_letter_topic(
    notifications: Harness,
) -> None:
    _, value, patient = inbound("CaseManagerAssigned")
    notifications.publish("casework", value)
    notifications.produce("casework", b"poison", b'{"event_type": "Nonsense"}')
    notifications.publish("casework", value.replace(b'"event_id": "', b'"event_id": "x'))
    assert eventually(lambda: of(patient, notifications.published("notifications"))) == [
        "NotificationDelivered"
    ]
    # both bad messages, once in the service: by its inbound consumer, which consumes
    # casework's topic (the loader of the access graph, which reads it too, only counts them)
    expected = {"carenet-notifications": 2}
    assert eventually(lambda: notifications.dead_letters_by_consumer() == expected or None)
    time.sleep(1)  # one more dead letter, had there been one, would now be on the topic
    assert notifications.dead_letters_by_consumer() == expected
