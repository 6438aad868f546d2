"""What casework's routers are given by FastAPI: the application and the read model."""

from __future__ import annotations

from typing import Annotated

from carenet_casework.application import CaseworkApplication
from carenet_casework.projection_recovery import CaseworkBoard
from carenet_kit.http import from_app_state

CaseworkDep = Annotated[CaseworkApplication, from_app_state("application")]
CareBoardDep = Annotated[CaseworkBoard, from_app_state("projection")]
