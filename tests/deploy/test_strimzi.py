"""The committed Strimzi resources are those the topic spec gives, with the ACLs of the same
derivation that `carenet-dev kafka-acls` applies to a local broker."""

from __future__ import annotations

from pathlib import Path

import yaml

from carenet_devtools import access, kubernetes
from carenet_kit.topics import load_catalog, parse_catalog


def test_the_committed_strimzi_resources_match_the_topic_spec() -> None:
    stale = kubernetes.stale()
    assert stale == [], f"run `uv run carenet-dev strimzi` and commit: {stale} are stale"


def test_a_changed_spec_makes_the_committed_resources_stale(tmp_path: Path) -> None:
    kubernetes.write(tmp_path)
    assert kubernetes.stale(tmp_path) == []
    (tmp_path / "production" / "topics.yaml").write_text("# edited by hand\n")
    (tmp_path / "local" / "extra.yaml").write_text("{}\n")
    assert kubernetes.stale(tmp_path) == ["local/extra.yaml", "production/topics.yaml"]


def test_a_new_topic_in_the_spec_gets_its_kafka_topic() -> None:
    spec = (kubernetes.REPO / "deploy" / "topics.yaml").read_text()
    extended = spec.replace(
        "topics:\n",
        "topics:\n  - name: carenet.extra.v1\n    producer: any\n    description: x\n"
        "    partitions: 12\n",
        1,
    )
    files = kubernetes.render(parse_catalog(extended))
    topics = list(yaml.safe_load_all(files["production/topics.yaml"]))
    extra = next(t for t in topics if t["spec"]["topicName"] == "carenet.extra.v1")
    assert extra["spec"]["partitions"] == 12
    assert extra["spec"]["replicas"] == 3


def test_every_kafka_user_has_exactly_the_brokers_acls() -> None:
    """Read back as Kafka ACL bindings, a KafkaUser's ACLs are the bindings `kafka-acls`
    creates for that user on a local secured broker (`carenet_devtools.access.bindings`)."""
    catalog = load_catalog()
    users = list(
        yaml.safe_load_all((kubernetes.STRIMZI_DIR / "production" / "users.yaml").read_text())
    )
    assert [u["metadata"]["name"] for u in users] == [e.username for e in catalog.access]
    for user, entry in zip(users, catalog.access, strict=True):
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        read_back = {
            (
                acl["resource"]["type"],
                acl["resource"].get("name", "kafka-cluster"),
                acl["resource"].get("patternType", "literal"),
                operation,
            )
            for acl in user["spec"]["authorization"]["acls"]
            for operation in acl["operations"]
        }
        applied = {
            (
                b.restype.name.lower().replace("broker", "cluster"),
                b.name,
                b.resource_pattern_type.name.lower().replace("prefixed", "prefix"),
                b.operation.name.title().replace("_", ""),
            )
            for b in access.bindings(entry.username, catalog.acls_for(entry.service))
        }
        assert read_back == applied, entry.service
