"""Every contract by (event type, schema version), and the one way to read a message.

The contracts live in one module per producer; a new payload class in one of them is
registered here without further wiring. A breaking change is a new version whose class names
its `previous` version and upcasts from it: `parse_message` validates a message against the
version it was written in, then upcasts it step by step, so consumers read one shape, the
current one, whatever the age of the message.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError

from carenet_contracts import (
    access,
    audit,
    casework,
    intake,
    notifications,
    recovery,
    routing,
    social,
)
from carenet_contracts.envelope import Envelope, Payload, envelope_of

PRODUCER_MODULES: tuple[ModuleType, ...] = (
    intake,
    routing,
    casework,
    recovery,
    social,
    notifications,
    audit,
    access,
)
"""One module per producer (casework's recovery and social-service contracts in two more),
and `access`, whose contract every producer publishes."""


def _payloads(module: ModuleType) -> list[type[Payload]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Payload)
        and value.__module__ == module.__name__
    ]


CONTRACTS: dict[tuple[str, int], type[Payload]] = dict(
    sorted(((p.event_type, p.schema_version), p) for m in PRODUCER_MODULES for p in _payloads(m))
)
"""Every version of every contract, oldest version first."""

CURRENT: dict[str, type[Payload]] = {event_type: p for (event_type, _), p in CONTRACTS.items()}
"""The version of each contract that producers write and that `parse_message` returns."""

_NEXT: dict[type[Payload], type[Payload]] = {
    p.previous: p for p in CONTRACTS.values() if p.previous is not None
}


class ContractError(ValueError):
    """A message that is not a valid CareNet integration event; the text says why."""


class _Names(BaseModel):
    """What a message says it is, read before the contract it names validates the whole."""

    event_type: Any = None
    schema_version: Any = None


def parse_message(value: bytes) -> Envelope[Any]:
    """Validate a message against the contract its envelope names.

    The bytes are parsed by pydantic's JSON parser twice, once for the contract's name and once
    by the contract, which costs less than one parse into Python objects validated after."""
    try:
        names = _Names.model_validate_json(value)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise ContractError(f"not JSON: {first['msg']}") from error
        raise ContractError("not a JSON object") from error
    key = (names.event_type, names.schema_version)
    try:
        payload = CONTRACTS.get(key)
    except TypeError:  # a list or an object where a name or a number belongs
        payload = None
    if payload is None:
        raise ContractError(f"unknown contract {key[0]!r} version {key[1]!r}")
    try:
        envelope = envelope_of(payload).model_validate_json(value)
    except ValidationError as error:
        raise ContractError(str(error)) from error
    return _upcast(envelope)


def _upcast(envelope: Envelope[Any]) -> Envelope[Any]:
    """The envelope with its data in the contract's current version."""
    data: Payload = envelope.data
    while (newer := _NEXT.get(type(data))) is not None:
        try:
            data = newer.upcast(data)
        except (ValueError, ValidationError) as error:
            raise ContractError(
                f"cannot upcast to version {newer.schema_version}: {error}"
            ) from error
    if data is envelope.data:
        return envelope
    fields = {name: getattr(envelope, name) for name in type(envelope).model_fields}
    return envelope_of(type(data))(**fields | {"schema_version": data.schema_version, "data": data})
