"""The follow-up rules of the care pathway (`care-pathway-rules.md`): data, plus two functions.

The numbers live in a versioned rule-set file (`rule_sets/nhc-2018.yaml` by default; a region
points `CARENET_RULE_SET_FILE` at its own). Every decision records the version it was made
under, so an auditor can check it against the rules that were in force.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from pydantic.dataclasses import dataclass

from carenet_contracts import VisitClassification

DEFAULT_RULE_SET = Path(__file__).parent / "rule_sets" / "nhc-2018.yaml"


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


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Classification(_Frozen):
    unstable_from_risk: int = Field(ge=1, le=5)
    basically_stable_from_risk: int = Field(ge=1, le=5)


class FollowUpDays(_Frozen):
    unstable: PositiveInt
    basically_stable: PositiveInt
    basically_stable_again: PositiveInt
    stable: PositiveInt
    after_discharge: PositiveInt


class MissedFollowUp(_Frozen):
    reschedule_days: PositiveInt
    lost_after_consecutive: PositiveInt


class RuleSet(_Frozen):
    version: str = Field(min_length=1)
    timezone: str
    classification: Classification
    follow_up_days: FollowUpDays
    missed_follow_up: MissedFollowUp
    yearly_minimum_follow_ups: PositiveInt
    refer_from_risk: int = Field(ge=1, le=5)
    emergency_record_within_hours: PositiveInt

    @classmethod
    def load(cls, path: Path = DEFAULT_RULE_SET) -> RuleSet:
        rule_set = cls.model_validate(yaml.safe_load(path.read_text()))
        ZoneInfo(rule_set.timezone)  # fails fast on an unknown zone
        return rule_set

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def days(self, count: int) -> timedelta:
        return timedelta(days=count)

    def hours(self, count: int) -> timedelta:
        return timedelta(hours=count)

    def local_date(self, moment: datetime) -> date:
        """The calendar day at the centers, which deadlines are counted in."""
        return moment.astimezone(self.zone).date()

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
