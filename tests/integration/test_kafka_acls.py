"""The secured profile against a real broker: every service is a SASL/SCRAM principal that may
write only its own topic (and the dead letters and checkpoints) and read only its own and what
it consumes.

The cases are generated from the access table of `deploy/topics.yaml`, so a new service or a
new subscription is tested as soon as it is in the table; and the table is checked against
what each service really consumes, so a service cannot consume past it unnoticed.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from confluent_kafka.admin import AdminClient

from carenet_devtools import access
from carenet_devtools.kafka import create_topics, run_sync
from carenet_devtools.keys import DevKeyring, HandMadeStreams
from carenet_devtools.pytest_kafka import SecuredKafka
from carenet_devtools.services import ServiceProcess
from carenet_devtools.topics import read_records, read_topic
from carenet_kit.kafka_security import KafkaSecurity
from carenet_kit.topics import CHECKPOINT_TOPIC, Acl, load_catalog

from ..e2e.conftest import eventually, free_port
from .test_services import REPO, inbound

CATALOG = load_catalog()
SERVICES = [entry.service for entry in CATALOG.access]
TOPICS = [topic.name for topic in CATALOG.topics]


def writable(service: str) -> set[str]:
    return {a.name for a in CATALOG.acls_for(service) if "Write" in a.operations}


def readable(service: str) -> set[str]:
    return {
        a.name
        for a in CATALOG.acls_for(service)
        if a.resource == "topic" and "Read" in a.operations
    }


WRITES = [(s, t) for s in SERVICES for t in TOPICS if t in writable(s)]
NO_WRITES = [(s, t) for s in SERVICES for t in TOPICS if t not in writable(s)]
READS = [(s, t) for s in SERVICES for t in TOPICS if t in readable(s)]
NO_READS = [(s, t) for s in SERVICES for t in TOPICS if t not in readable(s)]
FOREIGN_GROUPS = [(s, o) for s in SERVICES for o in SERVICES if o != s]


@pytest.fixture(scope="module")
def broker(secured_kafka: SecuredKafka) -> SecuredKafka:
    """The secured broker, with one message on every topic (written by the admin)."""

    async def seed() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=secured_kafka.bootstrap, **secured_kafka.admin.client_options()
        )
        await producer.start()
        try:
            for topic in TOPICS:
                await producer.send_and_wait(topic, b"seed", key=b"seed")
        finally:
            await producer.stop()

    run_sync(seed())
    return secured_kafka


async def produce(broker: SecuredKafka, security: KafkaSecurity, topic: str) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=10_000,
        **security.client_options(),
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"probe", key=b"probe")
    finally:
        await producer.stop()


async def consume_one(
    broker: SecuredKafka, security: KafkaSecurity, topic: str, group: str
) -> list[Any]:
    """Join `group` on `topic` as faust does, and read until a record arrives."""
    consumer = AIOKafkaConsumer(
        topic,
        group_id=group,
        bootstrap_servers=broker.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **security.client_options(),
    )
    await consumer.start()
    try:
        for _ in range(40):
            fetched = await consumer.getmany(timeout_ms=500)
            if records := [r for batch in fetched.values() for r in batch]:
                return records
        raise AssertionError(f"nothing read from {topic}")
    finally:
        await consumer.stop()


def group_of(service: str) -> str:
    """A fresh consumer group within the service's prefix (`carenet-<service>`)."""
    return f"{CATALOG.access_of(service).username}-probe-{uuid4().hex[:8]}"


@pytest.mark.parametrize(("service", "topic"), WRITES)
async def test_a_service_writes_its_own_topic_the_dead_letters_and_checkpoints(
    broker: SecuredKafka, service: str, topic: str
) -> None:
    await produce(broker, broker.security_of(service), topic)


@pytest.mark.parametrize(("service", "topic"), NO_WRITES)
async def test_a_service_cannot_write_any_other_topic(
    broker: SecuredKafka, service: str, topic: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(broker, broker.security_of(service), topic)


@pytest.mark.parametrize(("service", "topic"), READS)
async def test_a_service_reads_its_own_topic_and_what_it_consumes(
    broker: SecuredKafka, service: str, topic: str
) -> None:
    records = await consume_one(broker, broker.security_of(service), topic, group_of(service))
    assert records[0].topic == topic


@pytest.mark.parametrize(("service", "topic"), NO_READS)
async def test_a_service_cannot_read_a_topic_it_does_not_consume(
    broker: SecuredKafka, service: str, topic: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await consume_one(broker, broker.security_of(service), topic, group_of(service))


@pytest.mark.parametrize(("service", "other"), FOREIGN_GROUPS)
async def test_a_service_cannot_join_another_services_consumer_group(
    broker: SecuredKafka, service: str, other: str
) -> None:
    own_topic = CATALOG.topic_of(service).name
    with pytest.raises(GroupAuthorizationFailedError):
        await consume_one(broker, broker.security_of(service), own_topic, group_of(other))


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_cannot_create_topics(broker: SecuredKafka, service: str) -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=broker.bootstrap, **broker.security_of(service).client_options()
    )
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(f"carenet.{service}.v2", 1, 1)])
    finally:
        await admin.close()
    assert [code for _, code, *_ in response.topic_errors] == [TopicAuthorizationFailedError.errno]


async def test_a_wrong_password_fails_authentication(
    broker: SecuredKafka, caplog: pytest.LogCaptureFixture
) -> None:
    impostor = broker.security_of("intake", password="not-the-password")
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await produce(broker, impostor, CATALOG.topic_of("intake").name)
    assert "SaslAuthenticationFailed" in caplog.text


async def test_an_anonymous_client_gets_nothing(broker: SecuredKafka) -> None:
    anonymous = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await anonymous.start()
    await anonymous.stop()


def test_applying_the_table_again_removes_a_permission_it_does_not_give(
    broker: SecuredKafka,
) -> None:
    """The table is the whole truth: an ACL added by hand is gone after the next apply."""
    foreign = CATALOG.topic_of("notifications").name
    assert foreign not in readable("intake")
    extra = Acl(resource="topic", name=foreign, operations=("Read",))
    client = AdminClient(access.librdkafka_config(broker.bootstrap, broker.admin))
    for future in client.create_acls(list(access.bindings("carenet-intake", (extra,)))).values():
        future.result(timeout=30)
    intake = broker.security_of("intake")
    eventually(lambda: run_sync(_can_read(broker, intake, foreign, group_of("intake"))))

    applied = access.apply_access(broker.bootstrap, broker.admin, broker.passwords)

    assert (applied.created, applied.deleted) == (0, 1)
    eventually(lambda: not run_sync(_can_read(broker, intake, foreign, group_of("intake"))))


async def _can_read(broker: SecuredKafka, who: KafkaSecurity, topic: str, group: str) -> bool:
    try:
        await consume_one(broker, who, topic, group)
    except TopicAuthorizationFailedError:
        return False
    return True


NAMESPACE = f"svc-{uuid4().hex[:8]}."
"""The real service's topics: the probes above left foreign records on the un-prefixed ones,
which is exactly what the ACLs keep from happening (a relay will not resume past them)."""


@pytest.fixture
def routing(broker: SecuredKafka, tmp_path: Path) -> Iterator[ServiceProcess]:
    run_sync(create_topics(broker.bootstrap, namespace=NAMESPACE, security=broker.admin))
    access.apply_access(broker.bootstrap, broker.admin, broker.passwords, NAMESPACE)
    keyring = DevKeyring(tmp_path / "keys")
    env = {
        **broker.env_of("routing"),
        **keyring.trusted_env(),
        **keyring.env("routing"),
        "CARENET_TOPIC_NAMESPACE": NAMESPACE,
        "CARENET_DATA_DIR": str(tmp_path / "data"),
        "CARENET_REFERENCE_FILE": str(REPO / "reference" / "demo-directory.yaml"),
        "CARENET_RULE_SET_FILE": str(REPO / "rules" / "nhc-2018.yaml"),
        "CARENET_RELAY_CHECKPOINT_SECONDS": "0.2",
    }
    process = ServiceProcess("routing", free_port(), env, tmp_path / "routing.log")
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def test_routing_consumes_and_publishes_as_its_own_principal(
    broker: SecuredKafka, routing: ServiceProcess, tmp_path: Path
) -> None:
    """Intake's principal writes a diagnosis (signed with intake's key); routing (faust
    consumer, relay) takes it in and publishes its decision, and a signed checkpoint of it;
    casework's principal, which consumes routing, reads it."""
    _, sample, patient_id = inbound("DiagnosisRecorded", region_code="440305001")
    streams = HandMadeStreams(DevKeyring(tmp_path / "keys"))
    key, value, headers = streams.next_of("intake", json.loads(sample))

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=broker.bootstrap, **broker.security_of("intake").client_options()
        )
        await producer.start()
        try:
            topic = NAMESPACE + CATALOG.topic_of("intake").name
            await producer.send_and_wait(topic, value, key=key, headers=headers)
        finally:
            await producer.stop()

    run_sync(send())
    casework = broker.security_of("casework")

    def routed() -> list[Any]:
        topic = NAMESPACE + CATALOG.topic_of("routing").name
        published = run_sync(read_topic(broker.bootstrap, topic, casework))
        return [m for m in published if str(m.patient_id) == patient_id]

    [decision] = eventually(routed)
    assert decision.event_type == "PatientRouted"

    def checkpoints() -> list[Any]:
        topic = NAMESPACE + CHECKPOINT_TOPIC
        return run_sync(read_records(broker.bootstrap, topic, broker.admin))

    [checkpoint] = eventually(checkpoints)
    assert json.loads(checkpoint.value)["producer"] == "routing"
    assert "AuthorizationFailed" not in routing.log_path.read_text()


@pytest.mark.parametrize("service", SERVICES)
def test_the_access_table_is_what_the_service_consumes(service: str, tmp_path: Path) -> None:
    """The table must follow the code: a service that starts consuming a topic fails here
    until the table (and so its ACLs) says so."""
    main = importlib.import_module(f"carenet_{service}.main")
    config = importlib.import_module(f"carenet_{service}.config")
    running = main.bootstrap(config.Settings(data_dir=tmp_path))
    try:
        consumed = {running.settings.topic(p) for p in running.consumes} | {
            topic for consumer in running.batch_consumers for topic in consumer.topics
        }
    finally:
        running.application.close()
    own = CATALOG.topic_of(service).name
    assert consumed - {own} == readable(service) - {own}
