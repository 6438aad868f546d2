"""What the care-network routers share: the application and the read model."""

from __future__ import annotations

from typing import Annotated

from carenet_casework.application import CaseworkApplication
from carenet_casework.projection import CareBoard
from carenet_kit.http import from_app_state

Casework = Annotated[CaseworkApplication, from_app_state("application")]
Board = Annotated[CareBoard, from_app_state("projection")]
