"""What casework publishes of a patient's recovery beyond the follow-up form: screenings
(producer `casework`; the module is casework's second, by subject)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from carenet_contracts.common import OrganisationId
from carenet_contracts.envelope import Payload, Producer


class Instrument(StrEnum):
    PHQ9 = "phq9"
    """Patient Health Questionnaire, 9 items: depression."""
    GAD7 = "gad7"
    """Generalised Anxiety Disorder scale, 7 items: anxiety."""


class SeverityBand(StrEnum):
    """The instruments' published bands (GAD-7 has no `moderately_severe`)."""

    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SEVERE = "severe"


class AssessedBy(BaseModel):
    """Who scored a screening, recorded as a rule set's version is with a decision."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    provider: str = Field(description="The assessment provider (`carenet`: the standard one).")
    model: str
    version: str


class ScreeningCompleted(Payload):
    """A patient was screened with a standard instrument, scored server-side.

    It proposes a risk review to the case manager when the band is moderate or worse or the
    screening is urgent; it does not change the patient's risk level by itself (people do, at
    a visit). `urgent`: PHQ-9 item 9 (thoughts of self-harm) above 0; the care team is told at
    once. The item answers stay in casework's record.
    """

    event_type: ClassVar[str] = "ScreeningCompleted"
    producer: ClassVar[Producer] = "casework"

    screening_id: UUID
    case_id: UUID
    center_id: OrganisationId
    screened_by: OrganisationId
    screened_on: date
    instrument: Instrument
    total_score: int = Field(ge=0, le=27)
    band: SeverityBand
    urgent: bool
    proposes_risk_review: bool
    assessed_by: AssessedBy
