"""What every intake route shares: dependencies and the strictness of request bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from carenet_intake.application import IntakeApplication
from carenet_intake.projection import HospitalRegister
from carenet_kit.http import from_app_state

OrganisationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]

Intake = Annotated[IntakeApplication, from_app_state("application")]
Register = Annotated[HospitalRegister, from_app_state("projection")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
