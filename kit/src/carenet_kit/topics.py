"""The topic specification (`deploy/topics.yaml`), loaded and typed.

It is the single source for topic names and settings; nothing else spells a topic name. Its
access table says which service consumes which producers' topics; the brokers' ACLs (local
`carenet-dev kafka-acls`, Strimzi KafkaUser resources) are derived from it by `acls_for`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

Profile = Literal["local", "production"]

DEAD_LETTER_TOPIC = "carenet.deadletter.v1"
CHECKPOINT_TOPIC = "carenet.checkpoints.v1"
"""Every relay's signed stream checkpoints (`carenet_kit.checkpoints`), read by auditors."""
ANY_PRODUCER = "any"
"""The producer of the dead-letter and checkpoint topics: every service writes to them."""
CLUSTER_RESOURCE = "kafka-cluster"
"""The name of Kafka's one cluster resource in ACLs."""

AclResource = Literal["topic", "group", "cluster"]
AclOperation = Literal["Read", "Write", "Describe", "IdempotentWrite"]


class Replication(BaseModel):
    model_config = ConfigDict(frozen=True)

    replication_factor: int
    min_insync_replicas: int


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    producer: str
    description: str
    partitions: int
    config: dict[str, str]


class Acl(BaseModel):
    """One ALLOW rule, in the terms of Strimzi's KafkaUser `authorization.acls`."""

    model_config = ConfigDict(frozen=True)

    resource: AclResource
    name: str
    pattern: Literal["literal", "prefix"] = "literal"
    operations: tuple[AclOperation, ...]


class ServiceAccess(BaseModel):
    """One service's row of the access table: the producers whose topics it consumes."""

    model_config = ConfigDict(frozen=True)

    service: str
    consumes: tuple[str, ...]

    @property
    def username(self) -> str:
        """The service's principal on the brokers (`User:carenet-<service>`)."""
        return f"carenet-{self.service}"


class TopicCatalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    profiles: dict[str, Replication]
    topics: tuple[TopicSpec, ...]
    access: tuple[ServiceAccess, ...] = ()

    @model_validator(mode="after")
    def _access_names_producers(self) -> TopicCatalog:
        producers = {t.producer for t in self.topics} - {ANY_PRODUCER}
        services = {a.service for a in self.access}
        if self.access and services != producers:
            raise ValueError(f"the access table must list every producer: {sorted(producers)}")
        for entry in self.access:
            if unknown := set(entry.consumes) - producers:
                raise ValueError(f"{entry.service} consumes unknown producers {sorted(unknown)}")
        return self

    def topic_of(self, producer: str) -> TopicSpec:
        return next(t for t in self.topics if t.producer == producer)

    def access_of(self, service: str) -> ServiceAccess:
        return next(a for a in self.access if a.service == service)

    def acls_for(self, service: str, namespace: str = "") -> tuple[Acl, ...]:
        """Everything `service` may do, and nothing more; `namespace` prefixes every topic and
        group name (`CARENET_TOPIC_NAMESPACE`).

        Its own topic: write, and read (the relay reads the last message of each partition to
        resume); the dead-letter and checkpoint topics: write; the topics it consumes: read;
        the consumer groups `carenet-<service>...` (faust's group and nothing else; faust
        declares no topic of its own here, `topic_disable_leader` and no tables); idempotent
        producing on the cluster.
        """
        access = self.access_of(service)
        own = namespace + self.topic_of(service).name
        consumed = [namespace + self.topic_of(p).name for p in access.consumes if p != service]
        return (
            Acl(resource="topic", name=own, operations=("Write", "Read", "Describe")),
            *(
                Acl(resource="topic", name=namespace + name, operations=("Write", "Describe"))
                for name in (DEAD_LETTER_TOPIC, CHECKPOINT_TOPIC)
            ),
            *(Acl(resource="topic", name=t, operations=("Read", "Describe")) for t in consumed),
            Acl(
                resource="group",
                name=f"{namespace}{access.username}",
                pattern="prefix",
                operations=("Read",),
            ),
            Acl(resource="cluster", name=CLUSTER_RESOURCE, operations=("IdempotentWrite",)),
        )

    def config_for(self, topic: TopicSpec, profile: Profile) -> dict[str, str]:
        """Topic-level configuration, including `min.insync.replicas` for the profile."""
        replicas = self.profiles[profile].min_insync_replicas
        return {**topic.config, "min.insync.replicas": str(replicas)}


def parse_catalog(text: str) -> TopicCatalog:
    raw = yaml.safe_load(text)
    defaults = raw["defaults"]
    topics = [
        {
            "partitions": defaults["partitions"],
            **entry,
            "config": {**defaults["config"], **entry.get("config", {})},
        }
        for entry in raw["topics"]
    ]
    access = [
        {"service": service, "consumes": tuple(entry.get("consumes", ()))}
        for service, entry in (raw.get("access") or {}).items()
    ]
    return TopicCatalog(profiles=raw["profiles"], topics=tuple(topics), access=tuple(access))


@cache
def load_catalog(path: Path | None = None) -> TopicCatalog:
    """Load `deploy/topics.yaml` (linked into the kit package), or another given file."""
    if path is not None:
        return parse_catalog(path.read_text())
    return parse_catalog(resources.files("carenet_kit").joinpath("topics.yaml").read_text())
