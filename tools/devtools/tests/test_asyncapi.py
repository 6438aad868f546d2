"""The AsyncAPI document is current, valid AsyncAPI 3.0, and says what really goes on the wire."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from carenet_contracts import CONTRACTS, CURRENT, Payload
from carenet_contracts.schema import SCHEMA_DIR, schema_file_name
from carenet_devtools.asyncapi import DOCUMENT, message_id, render
from carenet_kit.checkpoints import Checkpoints
from carenet_kit.signing import Signer
from carenet_kit.topics import load_catalog
from carenet_kit.wire import kafka_record

OFFICIAL_SCHEMA = Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json"
MESSAGES = SCHEMA_DIR.parent / "tests" / "messages"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def test_the_committed_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(), "run `carenet-dev asyncapi` and commit the result"


def test_the_document_is_valid_asyncapi_3() -> None:
    schema = json.loads(OFFICIAL_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(yaml.safe_load(render())), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


def test_the_official_schema_refuses_a_broken_document(document: dict[str, Any]) -> None:
    broken = {**document, "channels": {"intake": {"address": 42}}}
    assert not jsonschema.Draft7Validator(json.loads(OFFICIAL_SCHEMA.read_text())).is_valid(broken)


def test_every_topic_is_a_channel_and_every_contract_version_a_message(
    document: dict[str, Any],
) -> None:
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {t.name for t in load_catalog().topics}
    listed = {m for c in document["channels"].values() for m in c["messages"]}
    assert listed == {message_id(p) for p in CONTRACTS.values()} | {
        "DeadLetter",
        "StreamCheckpoint",
    }
    assert {"ReferralEscalated.v1", "ReferralEscalated.v2"} <= listed


def test_producers_send_only_the_current_version(document: dict[str, Any]) -> None:
    sent = {
        ref["$ref"].rsplit("/", 1)[-1]
        for name, operation in document["operations"].items()
        if name not in ("deadletter.publish", "checkpoints.publish")
        for ref in operation["messages"]
    }
    assert sent == {message_id(p) for p in CURRENT.values()}
    assert all(op["action"] == "send" for op in document["operations"].values())


@pytest.mark.parametrize("payload", CONTRACTS.values(), ids=message_id)
def test_a_real_record_matches_its_message(
    document: dict[str, Any], payload: type[Payload]
) -> None:
    """The committed example, with the key and headers CareNet's relay puts on it."""
    message = resolve(document, f"#/components/messages/{message_id(payload)}")
    assert message["payload"]["$ref"] == f"schemas/{schema_file_name(payload)}"
    value = (MESSAGES / schema_file_name(payload)).read_text()
    payload_schema = json.loads((DOCUMENT.parent / message["payload"]["$ref"]).read_text())
    jsonschema.validate(json.loads(value), payload_schema)

    signature = Signer.generate(f"{payload.producer}-test", payload.producer).sign(value.encode())
    key, headers = kafka_record(value, 7, signature)
    as_text = {name: raw.decode() for name, raw in headers}
    headers_schema = {
        "allOf": [
            resolve(document, part["$ref"]) if "$ref" in part else part
            for part in message["headers"]["allOf"]
        ]
    }
    jsonschema.validate(as_text, headers_schema, format_checker=jsonschema.FormatChecker())
    key_schema = resolve(document, message["bindings"]["$ref"])["kafka"]["key"]
    jsonschema.validate(key.decode(), key_schema, format_checker=jsonschema.FormatChecker())


def test_a_real_checkpoint_matches_its_message(document: dict[str, Any]) -> None:
    """A checkpoint as a relay signs it: payload, headers and key as the document says."""
    checkpoints = Checkpoints(
        Signer.generate("routing-test", "routing"), "carenet.routing.v1", 1, 60
    )
    checkpoints.published(3, 41, "ab" * 32)
    ((key, value, headers),) = checkpoints.due()
    message = resolve(document, "#/components/messages/StreamCheckpoint")
    payload_schema = json.loads((DOCUMENT.parent / message["payload"]["$ref"]).read_text())
    jsonschema.validate(json.loads(value), payload_schema)
    as_text = {name: raw.decode() for name, raw in headers}
    checker = jsonschema.FormatChecker()
    jsonschema.validate(
        as_text, resolve(document, message["headers"]["$ref"]), format_checker=checker
    )
    jsonschema.validate(key.decode(), message["bindings"]["kafka"]["key"])
    assert key == b"carenet.routing.v1:3"
