"""The AsyncAPI 3.0 document of CareNet's topics, generated from the contracts and the topic spec.

Channels are the topics of `deploy/topics.yaml`, messages are the contracts (every version
still on the topics), payloads refer to the committed JSON Schemas beside the document, and
the Kafka bindings give the key (the patient id) and the headers (CloudEvents binary mode and
the signature). `carenet-dev asyncapi` writes it to `contracts/asyncapi.yaml`; a test fails
when the committed file is stale.
"""

from __future__ import annotations

from collections import defaultdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from carenet_contracts import CONTRACTS, CURRENT, Payload
from carenet_contracts.checkpoint import CHECKPOINT_TYPE, CHECKPOINT_VERSION
from carenet_contracts.schema import CHECKPOINT_SCHEMA_FILE, SCHEMA_DIR, schema_file_name
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER
from carenet_kit.topics import (
    CHECKPOINT_TOPIC,
    DEAD_LETTER_TOPIC,
    TopicCatalog,
    TopicSpec,
    load_catalog,
)
from carenet_kit.wire import NOTIFICATION_ID_HEADER

DOCUMENT = SCHEMA_DIR.parent / "asyncapi.yaml"
KAFKA_BINDING_VERSION = "0.5.0"

_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}

HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 Kafka binary content mode, and the producer's signature. "
    "Header values are UTF-8 text. See MESSAGE_FORMAT.md.",
    "required": [
        "content-type",
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_subject",
        "ce_time",
        "ce_dataschema",
        "ce_recordedtime",
        "ce_correlationid",
        "ce_sequence",
        NOTIFICATION_ID_HEADER,
        KEY_ID_HEADER,
        SIGNATURE_HEADER,
    ],
    "properties": {
        "content-type": {"const": "application/json"},
        "ce_specversion": {"const": "1.0"},
        "ce_id": {**_UUID, "description": "The envelope's event_id."},
        "ce_source": {"type": "string", "description": "urn:carenet:<producer>"},
        "ce_type": {"type": "string", "description": "org.carenet.<event_type>.v<version>"},
        "ce_subject": {**_UUID, "description": "The pseudonymous patient id."},
        "ce_time": {**_TIME, "description": "The envelope's occurred_at."},
        "ce_dataschema": {
            "type": "string",
            "description": "urn:carenet:contract:<event_type>:v<version>, the schema's $id.",
        },
        "ce_recordedtime": {**_TIME, "description": "Extension: the envelope's recorded_at."},
        "ce_correlationid": {**_UUID, "description": "Extension: the envelope's correlation_id."},
        "ce_sequence": {
            "type": "string",
            "pattern": "^[1-9][0-9]*$",
            "description": "Extension: the envelope's sequence in its (producer, patient) stream.",
        },
        NOTIFICATION_ID_HEADER: {
            "type": "string",
            "pattern": "^[1-9][0-9]*$",
            "description": "The producer's outbox position; its relay publishes exactly once "
            "with it. Not part of the event.",
        },
        KEY_ID_HEADER: {
            "type": "string",
            "description": "The kid of the signing key in the published JWKS.",
        },
        SIGNATURE_HEADER: {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{86}$",
            "description": "Ed25519 signature of the value bytes, base64url without padding.",
        },
    },
}

DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original message's headers, and why and where from it was refused.",
    "required": [
        "carenet_dlq_reason",
        "carenet_dlq_topic",
        "carenet_dlq_partition",
        "carenet_dlq_offset",
        "carenet_dlq_consumer",
    ],
    "properties": {
        "carenet_dlq_reason": {"type": "string"},
        "carenet_dlq_topic": {"type": "string"},
        "carenet_dlq_partition": {"type": "string", "pattern": "^[0-9]+$"},
        "carenet_dlq_offset": {"type": "string", "pattern": "^[0-9]+$"},
        "carenet_dlq_consumer": {"type": "string"},
        "carenet_dlq_kind": {
            "type": "string",
            "description": "Why, as a label: forged, altered, misplaced, oversized, invalid, "
            "gap, repeat or untrusted (refused before acting), contract or rejected.",
        },
    },
}


CHECKPOINT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 binary content mode, and the producer's signature of the "
    "checkpoint (the same two headers as every message).",
    "required": [
        "content-type",
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        KEY_ID_HEADER,
        SIGNATURE_HEADER,
    ],
    "properties": {
        **{
            name: HEADERS["properties"][name]
            for name in ("content-type", "ce_specversion", KEY_ID_HEADER, SIGNATURE_HEADER)
        },
        "ce_id": {**_UUID, "description": "A fresh id for each checkpoint."},
        "ce_source": {"pattern": "^urn:carenet:[a-z]+$", "description": "urn:carenet:<producer>"},
        "ce_type": {"const": f"org.carenet.{CHECKPOINT_TYPE}.v{CHECKPOINT_VERSION}"},
        "ce_time": {**_TIME, "description": "The checkpoint's checkpointed_at."},
    },
}


def message_id(payload: type[Payload]) -> str:
    return f"{payload.event_type}.v{payload.schema_version}"


def _message(payload: type[Payload]) -> dict[str, Any]:
    event_type, schema_version = payload.event_type, payload.schema_version
    current = CURRENT[event_type]
    doc = (payload.__doc__ or "").strip()
    summary, _, rest = doc.partition("\n\n")
    message: dict[str, Any] = {
        "name": event_type,
        "title": f"{event_type} v{schema_version}",
        "summary": " ".join(summary.split()),
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/Headers"},
                {
                    "properties": {
                        "ce_source": (
                            {"const": f"urn:carenet:{payload.producer}"}
                            if payload.producer
                            else {"pattern": "^urn:carenet:[a-z]+$"}
                        ),
                        "ce_type": {"const": f"org.carenet.{event_type}.v{schema_version}"},
                        "ce_dataschema": {
                            "const": f"urn:carenet:contract:{event_type}:v{schema_version}"
                        },
                    }
                },
            ]
        },
        "payload": {"$ref": f"schemas/{schema_file_name(payload)}"},
        "correlationId": {"$ref": "#/components/correlationIds/Correlation"},
        "bindings": {"$ref": "#/components/messageBindings/PatientKey"},
    }
    if rest:
        message["description"] = " ".join(rest.split())
    if current is not payload:
        message["description"] = (
            f"Superseded by version {current.schema_version}, still on the topic: producers "
            f"no longer write it, and CareNet's parser reads it as version "
            f"{current.schema_version}."
        )
        message["tags"] = [{"name": "superseded"}]
    return message


def _channel(
    topic: TopicSpec,
    catalog: TopicCatalog,
    messages: list[str],
    key: str = "the pseudonymous patient id",
) -> dict[str, Any]:
    config = topic.config
    channel: dict[str, Any] = {
        "address": topic.name,
        "title": topic.name,
        "description": f"{topic.description} Key: {key}.",
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "replicas": catalog.profiles["production"].replication_factor,
                "topicConfiguration": {
                    "cleanup.policy": config["cleanup.policy"].split(","),
                    "retention.ms": int(config["retention.ms"]),
                    "retention.bytes": int(config["retention.bytes"]),
                    "min.insync.replicas": catalog.profiles["production"].min_insync_replicas,
                    "message.timestamp.type": config["message.timestamp.type"],
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    return channel


def document(catalog: TopicCatalog | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document as plain data."""
    catalog = catalog or load_catalog()
    by_producer: dict[str, list[type[Payload]]] = defaultdict(list)
    shared = [p for p in CONTRACTS.values() if p.producer is None]
    for payload in CONTRACTS.values():
        if payload.producer is not None:
            by_producer[payload.producer].append(payload)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in catalog.topics:
        if topic.name == DEAD_LETTER_TOPIC:
            channels["deadletter"] = _channel(topic, catalog, ["DeadLetter"])
            continue
        if topic.name == CHECKPOINT_TOPIC:
            key = "`<topic>:<partition>` of the partition checkpointed"
            channels["checkpoints"] = _channel(topic, catalog, [CHECKPOINT_TYPE], key)
            continue
        payloads = by_producer[topic.producer] + shared
        channels[topic.producer] = _channel(topic, catalog, [message_id(p) for p in payloads])
        operations[f"{topic.producer}.publish"] = {
            "action": "send",
            "title": f"{topic.producer} publishes",
            "summary": f"The {topic.producer} service's outbox relay publishes its events, "
            "exactly once, in (producer, patient) order.",
            "channel": {"$ref": f"#/channels/{topic.producer}"},
            "messages": [
                {"$ref": f"#/channels/{topic.producer}/messages/{message_id(p)}"}
                for p in payloads
                if CURRENT[p.event_type] is p
            ],
        }
    operations["deadletter.publish"] = {
        "action": "send",
        "title": "Consumers dead-letter what they cannot accept",
        "channel": {"$ref": "#/channels/deadletter"},
        "messages": [{"$ref": "#/channels/deadletter/messages/DeadLetter"}],
    }
    operations["checkpoints.publish"] = {
        "action": "send",
        "title": "Relays sign how far each partition got",
        "summary": "Every producer's outbox relay publishes a signed checkpoint of each "
        "partition of its topic, every so many messages or seconds; auditors read them.",
        "channel": {"$ref": "#/channels/checkpoints"},
        "messages": [{"$ref": f"#/channels/checkpoints/messages/{CHECKPOINT_TYPE}"}],
    }
    messages = {message_id(p): _message(p) for p in CONTRACTS.values()}
    messages[CHECKPOINT_TYPE] = {
        "name": CHECKPOINT_TYPE,
        "title": f"{CHECKPOINT_TYPE} v{CHECKPOINT_VERSION}",
        "summary": "A producer's signed word on how far one partition of its topic got: "
        "the last offset, the SHA-256 of the value there, the count of messages up to it.",
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CheckpointHeaders"},
        "payload": {"$ref": f"schemas/{CHECKPOINT_SCHEMA_FILE}"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9._-]+:[0-9]+$",
                    "description": "`<topic>:<partition>`: one partition's checkpoints stay in "
                    "order on one partition of the checkpoint topic.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "A refused message",
        "summary": "A message a consumer refused, copied unchanged (value and key) with why.",
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": "The refused message's value, unchanged."},
        "bindings": {"$ref": "#/components/messageBindings/PatientKey"},
    }
    return {
        "asyncapi": "3.0.0",
        "id": "urn:carenet:integration-events",
        "info": {
            "title": "CareNet integration events",
            "version": version("carenet-contracts"),
            "description": "The events CareNet's services publish on Kafka: one topic per "
            "producer, key = pseudonymous patient id, value = the signed, hash-chained "
            "envelope (JSON), CloudEvents 1.0 binary-mode headers. Generated by "
            "`carenet-dev asyncapi` from `contracts/` and `deploy/topics.yaml`; "
            "MESSAGE_FORMAT.md beside this file explains the envelope and how to verify it.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The broker of a local run (`make run`); plaintext, loopback only.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                "Headers": HEADERS,
                "DeadLetterHeaders": DEAD_LETTER_HEADERS,
                "CheckpointHeaders": CHECKPOINT_HEADERS,
            },
            "correlationIds": {
                "Correlation": {
                    "description": "Shared by every event of one chain (a diagnosis and all it "
                    "causes); the envelope's correlation_id.",
                    "location": "$message.header#/ce_correlationid",
                }
            },
            "messageBindings": {
                "PatientKey": {
                    "kafka": {
                        "key": {
                            **_UUID,
                            "description": "The pseudonymous patient id, 36 characters of "
                            "UTF-8; Kafka's default (murmur2) partitioner.",
                        },
                        "bindingVersion": KAFKA_BINDING_VERSION,
                    }
                }
            },
        },
    }


def render(catalog: TopicCatalog | None = None) -> str:
    header = "# Generated by `carenet-dev asyncapi` from contracts/ and deploy/topics.yaml.\n"
    body = yaml.safe_dump(document(catalog), sort_keys=False, allow_unicode=True, width=100)
    return header + body


def write(path: Path = DOCUMENT) -> Path:
    path.write_text(render())
    return path
