"""What casework publishes of a patient's recovery beyond the follow-up form: screenings and
the personal recovery plan (producer `casework`; the module is casework's second, by subject).

A recovery plan's words (what the patient wants, the steps, who helps) stay in casework: these
events say which goals there are, in which life domain, when each is reviewed and how it went.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
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


class GoalProgress(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


LifeDomain = Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,39}$")]
"""A life domain of the rule set's versioned list (`casework.recovery.domains`)."""


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


class GoalOutline(BaseModel):
    """One goal of a plan, without its words."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    goal_id: UUID
    domain: LifeDomain
    review_on: date = Field(description="When the goal is next reviewed.")
    progress: GoalProgress


class RecoveryPlanAgreed(Payload):
    """The case manager and the patient (with the family, within their consent) agreed a
    personal recovery plan: goals in life domains, each reviewed by a date."""

    event_type: ClassVar[str] = "RecoveryPlanAgreed"
    producer: ClassVar[Producer] = "casework"

    plan_id: UUID
    case_id: UUID
    center_id: OrganisationId
    agreed_by: OrganisationId
    agreed_on: date
    family_took_part: bool
    goals: list[GoalOutline] = Field(min_length=1)
    rule_set_version: str


class RecoveryPlanRevised(Payload):
    """The plan was agreed again, changed: `goals` is the whole plan from now on (a goal
    absent from it was taken out; its reviews stay in the history)."""

    event_type: ClassVar[str] = "RecoveryPlanRevised"
    producer: ClassVar[Producer] = "casework"

    plan_id: UUID
    case_id: UUID
    center_id: OrganisationId
    revision: int = Field(ge=2, description="The plan's first agreement is revision 1.")
    revised_by: OrganisationId
    revised_on: date
    family_took_part: bool
    goals: list[GoalOutline] = Field(min_length=1)
    rule_set_version: str


class RecoveryGoalReviewed(Payload):
    """A goal was reviewed with the patient (at a visit, usually): its progress, and the next
    review unless it was achieved or dropped. The reason is kept in casework."""

    event_type: ClassVar[str] = "RecoveryGoalReviewed"
    producer: ClassVar[Producer] = "casework"

    plan_id: UUID
    case_id: UUID
    center_id: OrganisationId
    goal_id: UUID
    domain: LifeDomain
    reviewed_by: OrganisationId
    reviewed_on: date
    progress: GoalProgress
    next_review_on: date | None


class RecoveryReviewDue(Payload):
    """Goals of the plan reached their review date without a review: the case manager is
    told, as of a follow-up falling due."""

    event_type: ClassVar[str] = "RecoveryReviewDue"
    producer: ClassVar[Producer] = "casework"

    plan_id: UUID
    case_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId | None
    due_on: date
    goal_ids: list[UUID] = Field(min_length=1)
    rule_set_version: str
