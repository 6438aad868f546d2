"""What the care-network routers share: the application, the read model, unknowns as 404."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError

from carenet_casework.application import CaseworkApplication, Unknown
from carenet_casework.domain.errors import ImplausibleDate
from carenet_casework.projection import CareBoard
from carenet_kit.http import from_app_state

Casework = Annotated[CaseworkApplication, from_app_state("application")]
Board = Annotated[CareBoard, from_app_state("projection")]


@contextmanager
def known() -> Iterator[None]:
    """A command about something casework does not know answers 404 with the reason."""
    try:
        yield
    except Unknown as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


@contextmanager
def plausible_dates() -> Iterator[None]:
    """An implausible date answers 422 exactly as a field validator would: where (`loc`) and
    which rule (`msg`, as pydantic words a `value_error`), never the value."""
    try:
        yield
    except ImplausibleDate as error:
        problem = {"loc": ("body", error.field), "msg": f"Value error, {error.rule}"}
        raise RequestValidationError([problem | {"type": "value_error"}]) from None
