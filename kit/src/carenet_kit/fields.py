"""A value built from another's fields of the same names, where one layer hands its facts to the
next: a read model's view from a domain event, an API response from a view, a command from a
request body or a consumed contract, an aggregate from a command, a contract payload from a
domain event (`carenet_kit.outbox.contract_payload`).

Only the target's fields are read, so the target decides what it takes; the fields it names
otherwise, or computes, are given by name and stand out.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any, TypeVar, is_typeddict

from pydantic import BaseModel

T = TypeVar("T")


_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


_known: dict[type[Any], frozenset[str]] = {}


def field_names(target: type[Any]) -> frozenset[str]:
    """The fields a dataclass, a pydantic model or a typed dictionary is constructed with; for
    another class (an aggregate), the named parameters of its `__init__`. Worked out once per
    class."""
    names = _known.get(target)
    if names is None:
        names = _known[target] = _constructed_with(target)
    return names


def _constructed_with(target: type[Any]) -> frozenset[str]:
    if issubclass(target, BaseModel):
        return frozenset(target.model_fields)
    if dataclasses.is_dataclass(target):
        return frozenset(f.name for f in dataclasses.fields(target) if f.init)
    if is_typeddict(target):
        return frozenset(target.__annotations__)
    parameters = list(inspect.signature(target.__init__).parameters.values())[1:]
    names = frozenset(p.name for p in parameters if p.kind in _NAMED)
    if not names:
        raise TypeError(f"{target!r} names no parameter to be constructed with")
    return names


def copy_of(target: type[T], source: object, /, **given: object) -> T:
    """The `target` (a dataclass, a pydantic model, a typed dictionary, or a class whose
    `__init__` names its parameters) of `source` (an object or a mapping).

    Each field of the target is the value `given` for it (a rename or a computed field), else the
    source's attribute (or key) of the same name, else the target's default. A pydantic target
    validates what it gets (a string becomes its enumeration); any other takes it as it is.
    """
    values = fields_of(target, source, **given)
    if issubclass(target, BaseModel):
        model: T = target.model_validate(values)
        return model
    return target(**values)


def fields_of(target: type[Any], source: object, /, **given: object) -> dict[str, Any]:
    """What `copy_of` builds `target` with, as keyword arguments: for an aggregate's event,
    whose command method is called with them (the library adds the event's own fields)."""
    names = field_names(target)
    unknown = given.keys() - names
    if unknown:
        raise TypeError(f"{target.__name__} has no field {', '.join(sorted(unknown))}")
    values: dict[str, Any] = dict(given)
    wanted = names - given.keys()
    if isinstance(source, Mapping):
        values.update((name, source[name]) for name in wanted if name in source)
    else:
        values.update((name, getattr(source, name)) for name in wanted if hasattr(source, name))
    return values
