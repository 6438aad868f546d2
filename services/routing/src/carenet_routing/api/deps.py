"""What routing's routers share: field types and the caller-checked command."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from carenet_kit.auth import Actor
from carenet_kit.http import from_app_state
from carenet_routing.application import RoutingApplication
from carenet_routing.projection import RoutingBoard

OrganisationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}(\d{3})?$", examples=["440305001"])]
DistrictCode = Annotated[str, Field(pattern=r"^\d{6}$", examples=["440305"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


Routing = Annotated[RoutingApplication, from_app_state("application")]
Board = Annotated[RoutingBoard, from_app_state("projection")]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    operator_id: OrganisationId = Field(
        description="Who made the change (kept for audit): the caller, as the token says."
    )

    def by(self, actor: Actor) -> Command:
        """This command, if the caller is the operator it names (403 otherwise)."""
        if self.operator_id != actor.subject:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "operator_id is not the caller")
        return self
