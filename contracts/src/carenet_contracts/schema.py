"""JSON Schema of every contract, as committed under `contracts/schemas/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from carenet_contracts.checkpoint import CHECKPOINT_TYPE, CHECKPOINT_VERSION, checkpoint_json_schema
from carenet_contracts.envelope import Payload, envelope_of
from carenet_contracts.registry import CONTRACTS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schema_file_name(payload: type[Payload]) -> str:
    return f"{payload.event_type}.v{payload.schema_version}.json"


def json_schema(payload: type[Payload]) -> dict[str, Any]:
    """The envelope's schema with the event type, version and producer pinned to this contract."""
    schema = envelope_of(payload).model_json_schema()
    if payload.__name__ != payload.event_type:  # an older version's class, e.g. ...V1
        schema["$defs"][payload.event_type] = schema["$defs"].pop(payload.__name__)
        schema["properties"]["data"] = {"$ref": f"#/$defs/{payload.event_type}"}
    schema["title"] = payload.event_type
    schema["$id"] = f"urn:carenet:contract:{payload.event_type}:v{payload.schema_version}"
    pinned = {"event_type": payload.event_type, "schema_version": payload.schema_version}
    if payload.producer is not None:
        pinned["producer"] = payload.producer
    for field, value in pinned.items():
        schema["properties"][field] = {"const": value, "title": field.replace("_", " ").title()}
    return schema


def render(payload: type[Payload]) -> str:
    return _dump(json_schema(payload))


CHECKPOINT_SCHEMA_FILE = f"{CHECKPOINT_TYPE}.v{CHECKPOINT_VERSION}.json"


def render_checkpoint() -> str:
    """The schema of a stream checkpoint (not an envelope: see `carenet_contracts.checkpoint`)."""
    return _dump(checkpoint_json_schema())


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every contract's schema, and the checkpoint's; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for payload in CONTRACTS.values():
        path = directory / schema_file_name(payload)
        path.write_text(render(payload))
        written.append(path)
    path = directory / CHECKPOINT_SCHEMA_FILE
    path.write_text(render_checkpoint())
    return [*written, path]


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
