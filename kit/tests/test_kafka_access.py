"""Kafka credentials from the settings, and the ACLs the access table of the topic spec gives."""

from __future__ import annotations

from typing import ClassVar

import faust
import pytest
from pydantic import ValidationError

from carenet_kit.kafka_security import KafkaSecurity
from carenet_kit.settings import ServiceSettings
from carenet_kit.topics import CHECKPOINT_TOPIC, DEAD_LETTER_TOPIC, load_catalog, parse_catalog

SPEC = """
profiles: {local: {replication_factor: 1, min_insync_replicas: 1}}
defaults: {partitions: 1, config: {}}
topics:
  - {name: a.v1, producer: a, description: A}
  - {name: b.v1, producer: b, description: B}
  - {name: dead.v1, producer: any, description: dead letters}
"""


class Settings(ServiceSettings):
    service: ClassVar[str] = "routing"


SASL = {
    "kafka_security_protocol": "SASL_PLAINTEXT",
    "kafka_username": "carenet-routing",
    "kafka_password": "s3cret-pw",
}


def test_development_clients_connect_in_plaintext_without_credentials() -> None:
    security = Settings().kafka_security()
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faust_credentials() is None


def test_sasl_settings_configure_aiokafka_and_faust_alike() -> None:
    security = Settings(**SASL).kafka_security()  # type: ignore[arg-type]

    assert security.client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "carenet-routing",
        "sasl_plain_password": "s3cret-pw",
    }
    credentials = security.faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("carenet-routing", "s3cret-pw")
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.protocol.value == "SASL_PLAINTEXT"


def test_sasl_ssl_brings_a_tls_context_to_both_clients() -> None:
    security = KafkaSecurity("SASL_SSL", username="u", password="p")
    assert security.client_options()["ssl_context"] is not None
    credentials = security.faust_credentials()
    assert credentials is not None
    assert credentials.protocol.value == "SASL_SSL"


def test_the_password_is_never_shown() -> None:
    settings = Settings(**SASL)  # type: ignore[arg-type]
    assert "s3cret-pw" not in repr(settings)
    assert "s3cret-pw" not in repr(settings.kafka_security())


def test_sasl_without_a_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="username and password"):
        Settings(kafka_security_protocol="SASL_SSL", kafka_username="carenet-routing")


def test_production_refuses_an_unauthenticated_broker() -> None:
    production = {
        "environment": "production",
        "persistence": "postgres",
        "signing_key": "a PEM",
        "signing_key_id": "routing-1",
        "auth_jwks": "https://id.example.org/jwks.json",
        "auth_issuer": "https://id.example.org",
        "trusted_keys": "/etc/carenet/trusted-keys/jwks.json",
    }
    with pytest.raises(ValidationError, match="CARENET_KAFKA_SECURITY_PROTOCOL"):
        Settings(**production)  # type: ignore[arg-type]
    Settings(**production, **SASL)  # type: ignore[arg-type]
    del production["trusted_keys"]
    with pytest.raises(ValidationError, match="CARENET_TRUSTED_KEYS"):
        Settings(**production, **SASL)  # type: ignore[arg-type]


def test_every_producer_has_a_row_in_the_access_table() -> None:
    catalog = load_catalog()
    producers = {t.producer for t in catalog.topics} - {"any"}
    assert {a.service for a in catalog.access} == producers


def test_a_service_writes_only_its_own_topic_the_dead_letters_and_checkpoints() -> None:
    catalog = load_catalog()
    for entry in catalog.access:
        written = {
            acl.name
            for acl in catalog.acls_for(entry.service)
            if acl.resource == "topic" and "Write" in acl.operations
        }
        assert written == {
            catalog.topic_of(entry.service).name,
            DEAD_LETTER_TOPIC,
            CHECKPOINT_TOPIC,
        }


def test_a_service_reads_its_own_topic_and_exactly_what_it_consumes() -> None:
    catalog = load_catalog()
    entry = catalog.access_of("routing")
    read = {
        acl.name
        for acl in catalog.acls_for("routing")
        if acl.resource == "topic" and "Read" in acl.operations
    }
    assert read == {catalog.topic_of(p).name for p in ("routing", *entry.consumes)}
    assert read == {
        "carenet.routing.v1",
        "carenet.intake.v1",
        "carenet.casework.v1",
        "carenet.audit.v1",
    }


def test_names_in_the_acls_follow_the_topic_namespace() -> None:
    acls = load_catalog().acls_for("intake", namespace="test-1.")
    names = {acl.name for acl in acls if acl.resource != "cluster"}
    assert all(name.startswith("test-1.") for name in names)
    (group,) = (acl for acl in acls if acl.resource == "group")
    assert (group.name, group.pattern, group.operations) == (
        "test-1.carenet-intake",
        "prefix",
        ("Read",),
    )


def test_the_access_table_names_only_producers_of_the_spec() -> None:
    with pytest.raises(ValidationError, match="unknown producers"):
        parse_catalog(SPEC + "access: {a: {consumes: [c]}, b: {consumes: [a]}}")
    with pytest.raises(ValidationError, match="every producer"):
        parse_catalog(SPEC + "access: {a: {consumes: [b]}}")
    catalog = parse_catalog(SPEC + "access: {a: {consumes: [b]}, b: {}}")
    assert catalog.access_of("a").username == "carenet-a"
