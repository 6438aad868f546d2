"""A value built from another's fields of the same names, where one layer hands its facts to the
next: a read model's view from a domain event, an API response from a view, a command from a
request body, a contract payload from a domain event (`carenet_kit.outbox.contract_payload`).

Only the target's fields are read, so the target decides what it takes; the fields it names
otherwise, or computes, are given by name and stand out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


def field_names(target: type[Any]) -> frozenset[str]:
    """The fields a dataclass or a pydantic model is constructed with."""
    if isinstance(target, type) and issubclass(target, BaseModel):
        return frozenset(target.model_fields)
    if dataclasses.is_dataclass(target):
        return frozenset(f.name for f in dataclasses.fields(target) if f.init)
    raise TypeError(f"{target!r} is neither a dataclass nor a pydantic model")


def copy_of(target: type[T], source: object, /, **given: object) -> T:
    """The `target` (a dataclass or a pydantic model) of `source` (an object or a mapping).

    Each field of the target is the value `given` for it (a rename or a computed field), else the
    source's attribute (or key) of the same name, else the target's default. A pydantic target
    validates what it gets (a string becomes its enumeration); a dataclass takes it as it is.
    """
    names = field_names(target)
    unknown = given.keys() - names
    if unknown:
        raise TypeError(f"{target.__name__} has no field {', '.join(sorted(unknown))}")
    values = dict(given)
    for name in names - given.keys():
        if isinstance(source, Mapping):
            if name in source:
                values[name] = source[name]
        elif hasattr(source, name):
            values[name] = getattr(source, name)
    if issubclass(target, BaseModel):
        model: T = target.model_validate(values)
        return model
    return target(**values)
