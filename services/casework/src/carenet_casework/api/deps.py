"""What the care-network routers share: the application, the read model, unknowns as 404."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import HTTPException, status

from carenet_casework.application import CaseworkApplication, Unknown
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
