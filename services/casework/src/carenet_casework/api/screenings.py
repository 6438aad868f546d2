"""Casework's HTTP API: screenings with standard instruments, scored server-side.

A patient's screening is care recorded on their record (who may record care may screen); a
resident's is the center's own, under a pseudonym, with consent. The answer says the score, the
band, whether it is urgent and who scored it; a provider whose scoring breaks the instrument's
published rules is refused with 502 and nothing is recorded.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from carenet_access import Access, Role, guarded, of_organisation
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.assessment import SCORING, answers_fit
from carenet_casework.domain.screening import Screened, Screening
from carenet_casework.projection_recovery import ScreeningView
from carenet_contracts.recovery import AssessedBy, Instrument, SeverityBand
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["screening"])

SCREENING_STAFF = (Role.SOCIAL_WORKER, Role.COMMUNITY_DOCTOR)
"""Who screens residents, at their own center."""
ITEMS = "; ".join(f"{i.value}: {s.items} items" for i, s in SCORING.items())


class Screen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    screening_id: UUID = Field(
        default_factory=uuid4, description="Client-chosen id makes a retried request safe."
    )
    instrument: Instrument
    answers: list[int] = Field(
        description=f"One answer per item, in order, each 0-3 ({ITEMS}).", max_length=9
    )

    @model_validator(mode="after")
    def _answers_fit_the_instrument(self) -> Self:
        if (wrong := answers_fit(self.instrument, tuple(self.answers))) is not None:
            raise ValueError(f"answers: {wrong}")
        return self


class ScreenResident(Screen):
    resident_ref: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9-]{3,39}$",
        description="The center's pseudonym for the resident (starts with a letter: never a "
        "name, phone or ID number); the screening creates no patient record.",
    )
    consent: Literal[True] = Field(description="The resident agreed to be screened and kept.")


class ScreeningOut(BaseModel):
    screening_id: UUID
    patient_id: UUID | None
    resident_ref: str | None
    center_id: str
    screened_by: str
    screened_on: date
    instrument: Instrument
    answers: list[int]
    total_score: int
    band: SeverityBand
    urgent: bool = Field(description="PHQ-9 item 9 (thoughts of self-harm) above 0.")
    proposes_risk_review: bool = Field(
        description="A patient's screening at moderate or worse, or urgent: the case manager "
        "is asked to review the risk level (the screening does not change it)."
    )
    assessed_by: AssessedBy


def screening_out(screening: ScreeningView | Screening) -> ScreeningOut:
    """A screening as the read model or, just recorded, the aggregate holds it."""
    assessed_by = AssessedBy(
        provider=screening.provider, model=screening.model, version=screening.provider_version
    )
    return copy_of(ScreeningOut, screening, assessed_by=assessed_by)


@router.post(
    "/patients/{patient_id}/screenings",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def screen_patient(
    patient_id: UUID,
    body: Screen,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> ScreeningOut:
    screened = copy_of(
        Screened,
        body,
        patient_id=patient_id,
        center_id=actor.organisation,  # the case's, once found
        screened_by=actor.subject,
        answers=tuple(body.answers),
    )
    return screening_out(casework.screen_patient(screened, Cause.request(corr)))


@router.get("/patients/{patient_id}/screenings", **guarded(Access.READ_CARE))
def screenings_of(patient_id: UUID, board: CareBoardDep) -> list[ScreeningOut]:
    return [screening_out(s) for s in board.screenings_of(patient_id)]


@router.post(
    "/centers/{center_id}/screenings",
    status_code=status.HTTP_201_CREATED,
    **of_organisation("center_id", *SCREENING_STAFF),
)
def screen_resident(
    center_id: str,
    body: ScreenResident,
    casework: CaseworkDep,
    actor: CurrentActor,
    corr: CorrelationId,
) -> ScreeningOut:
    screened = copy_of(
        Screened,
        body,
        center_id=center_id,
        screened_by=actor.subject,
        answers=tuple(body.answers),
    )
    return screening_out(casework.screen_resident(screened, Cause.request(corr)))


@router.get("/centers/{center_id}/screenings", **of_organisation("center_id", *SCREENING_STAFF))
def residents_screened(center_id: str, board: CareBoardDep) -> list[ScreeningOut]:
    """The residents (not patients) screened at the center."""
    return [screening_out(s) for s in board.residents_screened_at(center_id)]
