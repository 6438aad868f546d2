"""pytest plugin: `kafka_bootstrap`, one real Kafka broker per test session with CareNet's topics.

Enable it with `pytest_plugins = ["carenet_devtools.pytest_kafka"]`. The broker is, in order:

1. the one at `$CARENET_TEST_KAFKA_BOOTSTRAP` (e.g. CI's, started with `carenet-dev kafka up`);
2. a testcontainers Kafka, if a Docker engine answers;
3. otherwise a local broker (`carenet_devtools.kafka`) on free ports in a temporary directory.

Whichever it is, the topics of `deploy/topics.yaml` are created before the first test uses it.

`secured_kafka` is another broker, for the modules that test the secured profile: always a local
one (secured mode of `carenet_devtools.kafka`), with the topics, and every service's SCRAM user
and ACLs from the access table.
"""

from __future__ import annotations

import gc
import os
import secrets
import socket
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

import docker  # type: ignore[import-untyped]
import pytest

from carenet_devtools import access, kafka
from carenet_kit.kafka_security import KafkaSecurity
from carenet_kit.topics import load_catalog

BOOTSTRAP_ENV = "CARENET_TEST_KAFKA_BOOTSTRAP"
# Confluent Platform 7.9 ships Apache Kafka 3.9, the version the local broker runs.
CONTAINER_IMAGE = "confluentinc/cp-kafka:7.9.1"


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bootstrap address of a broker whose topics are those of the spec."""
    with _broker(tmp_path_factory) as bootstrap:
        kafka.run_sync(kafka.create_topics(bootstrap))
        yield bootstrap


@dataclass(frozen=True)
class SecuredKafka:
    """A broker that authenticates everyone (SASL/SCRAM-SHA-512) and allows only its ACLs."""

    bootstrap: str
    admin: KafkaSecurity
    passwords: dict[str, str]
    """Each service's password, by service."""

    def security_of(self, service: str, password: str | None = None) -> KafkaSecurity:
        """The credentials of the service's user (with another password, if given)."""
        return KafkaSecurity(
            "SASL_PLAINTEXT",
            username=load_catalog().access_of(service).username,
            password=password or self.passwords[service],
        )

    def env_of(self, service: str) -> dict[str, str]:
        """The service's settings to connect to this broker (`CARENET_*`)."""
        return access.service_env(service, self.bootstrap, self.passwords[service])


@pytest.fixture(scope="module")
def secured_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKafka]:
    """A local secured broker with the spec's topics, users and ACLs, for one test module."""
    admin = KafkaSecurity("SASL_PLAINTEXT", username="admin", password=secrets.token_hex(16))
    passwords = {entry.service: secrets.token_urlsafe(16) for entry in load_catalog().access}
    work_dir = tmp_path_factory.mktemp("kafka-secured")
    bootstrap = kafka.start(work_dir, *_free_ports(), admin=admin)
    try:
        kafka.run_sync(kafka.create_topics(bootstrap, security=admin))
        access.apply_access(bootstrap, admin, passwords)
        yield SecuredKafka(bootstrap, admin, passwords)
    finally:
        kafka.stop(work_dir)


def _free_ports() -> tuple[int, int]:
    with socket.socket() as broker, socket.socket() as controller:
        broker.bind(("127.0.0.1", 0))
        controller.bind(("127.0.0.1", 0))
        return broker.getsockname()[1], controller.getsockname()[1]


@contextmanager
def _broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if bootstrap := os.environ.get(BOOTSTRAP_ENV):
        yield bootstrap
    elif _docker_answers():
        # Imported only here: testcontainers is slow to import and warns about its own internals.
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415

        container = (
            KafkaContainer(CONTAINER_IMAGE)
            .with_kraft()
            .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        )
        with container:
            yield container.get_bootstrap_server()
    else:
        work_dir = tmp_path_factory.mktemp("kafka")
        bootstrap = kafka.start(work_dir, *_free_ports())
        try:
            yield bootstrap
        finally:
            kafka.stop(work_dir)


def _docker_answers() -> bool:
    """Whether a Docker engine is reachable; on machines without one this fails fast.

    docker-py leaks its socket when it cannot connect (docker/docker-py#3356), so the leak is
    collected here, where its ResourceWarning is ignored, instead of failing some later test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with closing(docker.from_env(timeout=5)) as client:
                return bool(client.ping())
        except Exception:  # no socket, no permission, no engine: all mean "no Docker"
            return False
        finally:
            gc.collect()
