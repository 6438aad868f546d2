"""Every contract by (event type, schema version), and the one way to read a message.

The contracts live in one module per producer; a new payload class in one of them is
registered here without further wiring.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from carenet_contracts import audit, casework, intake, notifications, routing
from carenet_contracts.envelope import Envelope, Payload, envelope_of

PRODUCER_MODULES: tuple[ModuleType, ...] = (intake, routing, casework, notifications, audit)


def _payloads(module: ModuleType) -> list[type[Payload]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Payload)
        and value.__module__ == module.__name__
    ]


CONTRACTS: dict[tuple[str, int], type[Payload]] = {
    (p.event_type, p.schema_version): p for m in PRODUCER_MODULES for p in _payloads(m)
}


class ContractError(ValueError):
    """A message that is not a valid CareNet integration event; the text says why."""


def parse_message(value: bytes) -> Envelope[Any]:
    """Validate a message against the contract its envelope names."""
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ContractError(f"not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ContractError("not a JSON object")
    key = (raw.get("event_type"), raw.get("schema_version"))
    payload = CONTRACTS.get(key)  # type: ignore[arg-type]
    if payload is None:
        raise ContractError(f"unknown contract {key[0]!r} version {key[1]!r}")
    try:
        return envelope_of(payload).model_validate(raw)
    except ValidationError as error:
        raise ContractError(str(error)) from error
