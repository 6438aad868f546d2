"""Apply the access table of `deploy/topics.yaml` to a secured broker: SCRAM users and ACLs.

Each service of the table becomes the SASL/SCRAM-SHA-512 user `carenet-<service>` with exactly
the ACLs `TopicCatalog.acls_for` derives: ACLs of those users that the table no longer gives
are deleted (within the namespace applied), so applying is a reconciliation and can be
repeated. Kubernetes does the same with
Strimzi's KafkaUser resources (one per service, `authentication: scram-sha-512`, the same ACLs).

aiokafka's admin client has neither the ACL nor the SCRAM credential requests, so this uses
confluent-kafka's (librdkafka) admin client, with the admin super-user's credentials.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from carenet_kit.kafka_security import KafkaSecurity
from carenet_kit.topics import Acl, load_catalog

SCRAM_ITERATIONS = 8192
TIMEOUT_SECONDS = 30.0

_RESOURCES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "cluster": ResourceType.BROKER,
}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefix": ResourcePatternType.PREFIXED}
_OPERATIONS = {
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Describe": AclOperation.DESCRIBE,
    "IdempotentWrite": AclOperation.IDEMPOTENT_WRITE,
}


@dataclass(frozen=True)
class Applied:
    """What one application changed."""

    users: tuple[str, ...]
    created: int
    deleted: int


def librdkafka_config(
    bootstrap: str, security: KafkaSecurity
) -> dict[str, str | int | float | bool]:
    """The same credentials in librdkafka's configuration keys."""
    config: dict[str, str | int | float | bool] = {
        "log_level": 4,
        "bootstrap.servers": bootstrap,
        "security.protocol": security.protocol.lower(),
    }
    if security.authenticated:
        config |= {
            "sasl.mechanism": security.mechanism,
            "sasl.username": security.username or "",
            "sasl.password": security.password or "",
        }
    if security.cafile is not None:
        config["ssl.ca.location"] = str(security.cafile)
    return config


def bindings(username: str, acls: tuple[Acl, ...]) -> set[AclBinding]:
    """Kafka's ACL bindings (one operation each) for a user's ACLs."""
    return {
        AclBinding(
            _RESOURCES[acl.resource],
            acl.name,
            _PATTERNS[acl.pattern],
            f"User:{username}",
            "*",
            _OPERATIONS[operation],
            AclPermissionType.ALLOW,
        )
        for acl in acls
        for operation in acl.operations
    }


def apply_access(
    bootstrap: str,
    admin: KafkaSecurity,
    passwords: Mapping[str, str],
    namespace: str = "",
) -> Applied:
    """Create or update every service's SCRAM user (password from `passwords`, by service) and
    make its ACLs exactly those of the access table, topic and group names in `namespace`.

    Only ACLs on names in `namespace` are reconciled (all of them for the empty namespace, the
    production one), so test runs in namespaces of their own can share one broker."""
    catalog = load_catalog()
    client = AdminClient(librdkafka_config(bootstrap, admin))
    users = [(entry.username, passwords[entry.service]) for entry in catalog.access]
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            user,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            password.encode(),
        )
        for user, password in users
    ]
    for future in client.alter_user_scram_credentials(upserts).values():
        future.result(timeout=TIMEOUT_SECONDS)
    for user, password in users:
        _wait_until_accepted(bootstrap, admin, user, password)
    created = deleted = 0
    for entry in catalog.access:
        wanted = bindings(entry.username, catalog.acls_for(entry.service, namespace))
        existing = set(_acls_of(client, entry.username))
        in_scope = {b for b in existing if b.name.startswith(namespace)}
        stale = [_exact_filter(b) for b in in_scope - wanted]
        if stale:
            for future in client.delete_acls(stale).values():
                future.result(timeout=TIMEOUT_SECONDS)
        missing = list(wanted - existing)
        if missing:
            for future in client.create_acls(missing).values():
                future.result(timeout=TIMEOUT_SECONDS)
        created, deleted = created + len(missing), deleted + len(stale)
    return Applied(tuple(user for user, _ in users), created, deleted)


def service_env(service: str, bootstrap: str, password: str) -> dict[str, str]:
    """A service's settings (`CARENET_*`) to connect to the secured local broker."""
    return {
        "CARENET_KAFKA_BOOTSTRAP": bootstrap,
        "CARENET_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "CARENET_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "CARENET_KAFKA_USERNAME": load_catalog().access_of(service).username,
        "CARENET_KAFKA_PASSWORD": password,
    }


def service_passwords(directory: Path) -> dict[str, str]:
    """Each service's password from `directory/<user>.password`, created (random) if absent."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    passwords: dict[str, str] = {}
    for entry in load_catalog().access:
        path = directory / f"{entry.username}.password"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        passwords[entry.service] = path.read_text().strip()
    return passwords


def _wait_until_accepted(bootstrap: str, admin: KafkaSecurity, user: str, password: str) -> None:
    """A new credential reaches the broker's authenticator a moment after the controller has
    committed it: log in as the user until that works, so nobody starts before it does."""
    as_user = KafkaSecurity(
        admin.protocol, admin.mechanism, username=user, password=password, cafile=admin.cafile
    )
    config = librdkafka_config(bootstrap, as_user) | {"log_level": 0}
    for attempt in Retrying(
        stop=stop_after_delay(TIMEOUT_SECONDS),
        wait=wait_fixed(0.2),
        retry=retry_if_exception_type(KafkaException),
        reraise=True,
    ):
        with attempt:
            AdminClient(config).list_topics(timeout=2)


def _acls_of(client: AdminClient, username: str) -> list[AclBinding]:
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # None matches any name
        ResourcePatternType.ANY,
        f"User:{username}",
        None,  # type: ignore[arg-type]  # None matches any host
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    found: list[AclBinding] = client.describe_acls(everything).result(timeout=TIMEOUT_SECONDS)
    return found


def _exact_filter(binding: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )
