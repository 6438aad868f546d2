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

from carenet_contracts.social import SocialService

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


class ReferencePartner(StrictModel):
    """A partner organisation a patient may be referred to for a social service."""

    id: str
    name: str
    offers: tuple[SocialService, ...]
    districts: tuple[str, ...]
    """The districts (6-digit region codes) whose residents it serves."""
    address: str
    """Where it is: the organisation's own address, public."""


class ReferenceDirectory(StrictModel):
    """The directory of hospitals, community centers and social-service partners the network
    starts from (`reference/demo-directory.yaml`; `CARENET_REFERENCE_FILE`). Intake reads its
    hospitals, routing seeds its directory from it, casework reads the partners (and learns
    each center's social workers from routing's routes, not from here)."""

    hospitals: tuple[ReferenceHospital, ...] = ()
    centers: tuple[ReferenceCenter, ...] = ()
    partners: tuple[ReferencePartner, ...] = ()

    @classmethod
    def load(cls, path: Path = DEFAULT_REFERENCE_FILE) -> Self:
        return validate_strictly(cls, read_yaml(path), path)
