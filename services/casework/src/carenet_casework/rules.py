"""The follow-up rules of the care pathway (`care-pathway-rules.md`): data, plus two functions.

The numbers are the `casework` section of the network's one rule set (`rules/nhc-2018.yaml`;
`carenet_kit.rule_set`). Every decision records the rule set's version, so an auditor can check
it against the rules that were in force.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, PositiveInt
from pydantic.dataclasses import dataclass

from carenet_contracts import VisitClassification
from carenet_kit.reference_data import StrictModel
from carenet_kit.rule_set import RuleSection


class Symptoms(StrEnum):
    ESSENTIALLY_GONE = "essentially_gone"
    PRESENT = "present"
    OBVIOUS = "obvious"


class Rating(StrEnum):
    """How insight, social functioning, sleep or diet was judged at the visit."""

    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    NONE = "none"


@dataclass(frozen=True)
class VisitFindings:
    """What the case manager saw, as far as the classification depends on it."""

    risk_level: Annotated[int, Field(ge=0, le=5)]
    symptoms: Symptoms
    insight: Rating
    social_functioning: Rating
    acute_adverse_reaction: bool
    serious_physical_illness: bool


class Classification(StrictModel):
    unstable_from_risk: int = Field(ge=1, le=5)
    basically_stable_from_risk: int = Field(ge=1, le=5)


class FollowUpDays(StrictModel):
    unstable: PositiveInt
    basically_stable: PositiveInt
    basically_stable_again: PositiveInt
    stable: PositiveInt
    after_discharge: PositiveInt


class MissedFollowUp(StrictModel):
    reschedule_days: PositiveInt
    lost_after_consecutive: PositiveInt


class RecoveryRules(StrictModel):
    domains: list[Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,39}$")]] = Field(min_length=1)
    """The life domains a recovery goal is set in (a versioned list: the rule set's version)."""
    review_within_days: PositiveInt
    """The latest a goal's review may be set: this many days after it is set."""


class IndicatorRules(StrictModel):
    window_days: PositiveInt
    """A year of care, for the rates: the days up to (and with) the day reported on."""
    suppress_below: PositiveInt
    """A cell counting fewer patients than this (but some) is suppressed, as is a rate over
    fewer: aggregate figures must not single anyone out."""
    caseload_warning_above: PositiveInt
    """Active cases per full-time social worker on the center's roster above which the
    center's lead and the network's lead are warned."""


class RuleSet(RuleSection):
    """Casework's section of the rule set: classifying a visit and when the next is due."""

    section: ClassVar = "casework"

    classification: Classification
    follow_up_days: FollowUpDays
    missed_follow_up: MissedFollowUp
    yearly_minimum_follow_ups: PositiveInt
    refer_from_risk: int = Field(ge=1, le=5)
    emergency_record_within_hours: PositiveInt
    recovery: RecoveryRules
    indicators: IndicatorRules

    def days(self, count: int) -> timedelta:
        return timedelta(days=count)

    def hours(self, count: int) -> timedelta:
        return timedelta(hours=count)

    def classify(self, findings: VisitFindings) -> VisitClassification:
        f, c = findings, self.classification
        if (
            f.risk_level >= c.unstable_from_risk
            or f.symptoms == Symptoms.OBVIOUS
            or f.insight == Rating.NONE
            or f.acute_adverse_reaction
            or f.serious_physical_illness
        ):
            return VisitClassification.UNSTABLE
        one_poor = (
            f.symptoms == Symptoms.PRESENT
            or f.insight == Rating.POOR
            or f.social_functioning in (Rating.POOR, Rating.NONE)
        )
        if f.risk_level >= c.basically_stable_from_risk or one_poor:
            return VisitClassification.BASICALLY_STABLE
        return VisitClassification.STABLE

    def next_follow_up(
        self,
        classification: VisitClassification,
        visited_on: date,
        previous: VisitClassification | None,
    ) -> date:
        """When the next follow-up is due.

        Basically stable: two weeks; still basically stable at that follow-up, a psychiatrist
        is asked and the next one is within a month (a patient who has stabilised is
        classified stable and goes to three months).
        """
        d = self.follow_up_days
        match classification:
            case VisitClassification.UNSTABLE:
                return visited_on + self.days(d.unstable)
            case VisitClassification.BASICALLY_STABLE if previous == classification:
                return visited_on + self.days(d.basically_stable_again)
            case VisitClassification.BASICALLY_STABLE:
                return visited_on + self.days(d.basically_stable)
        return visited_on + self.days(d.stable)

    def asks_for_referral(self, classification: VisitClassification, risk_level: int) -> bool:
        return classification == VisitClassification.UNSTABLE or risk_level >= self.refer_from_risk
