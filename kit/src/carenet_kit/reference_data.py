"""Typed reading of the YAML files a service starts from: the rule set and the reference
directory.

A file edited by hand fails at start-up, naming the entry, rather than deep inside a request:
every model is frozen, forbids keys it does not know (a misspelt key is an error, not a
default) and coerces nothing (`"14"` is not 14, `yes` is not a string). The YAML is validated
in pydantic's JSON mode, where a list reads as a tuple and a string as an enum member, and
nothing else is converted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict

DEFAULT_REFERENCE_FILE = Path("reference/demo-directory.yaml")
"""Relative to the working directory, where deploy/build-app.sh lays it out in the image."""


class StrictModel(BaseModel):
    """Data read from a file: frozen, no unknown key, no coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


M = TypeVar("M", bound=StrictModel)


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def validate_strictly(model: type[M], data: Any, source: Path) -> M:
    """`data` as `model`; YAML that JSON cannot hold (a bare date, say) is refused too."""
    try:
        text = json.dumps(data)
    except TypeError as error:
        raise ValueError(f"{source}: {error}") from error
    return model.model_validate_json(text)


class ReferenceHospital(StrictModel):
    id: str
    name: str
    region_code: str
    certified: bool


class ReferenceCenter(StrictModel):
    id: str
    name: str
    catchment: tuple[str, ...]
    social_workers: tuple[str, ...] = ()


class ReferenceDirectory(StrictModel):
    """The directory of hospitals and community centers the network starts from
    (`reference/demo-directory.yaml`; `CARENET_REFERENCE_FILE`). Intake reads its hospitals,
    routing seeds its directory from it (casework learns each center's social workers from
    routing's routes, not from here)."""

    hospitals: tuple[ReferenceHospital, ...] = ()
    centers: tuple[ReferenceCenter, ...] = ()

    @classmethod
    def load(cls, path: Path = DEFAULT_REFERENCE_FILE) -> Self:
        return validate_strictly(cls, read_yaml(path), path)
