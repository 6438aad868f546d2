"""The follow-up rules of the care pathway (`care-pathway-rules.md`), as data plus one function.

A region may replace the intervals by configuration later; every decision records
`RULE_SET.version`, so an auditor can check it against the rules in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from carenet_contracts import VisitClassification


class Symptoms(StrEnum):
    ESSENTIALLY_GONE = "essentially_gone"
    PRESENT = "present"
    OBVIOUS = "obvious"


class Rating(StrEnum):
    """How insight or social functioning was judged at the visit."""

    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    NONE = "none"


@dataclass(frozen=True)
class VisitFindings:
    """What the case manager saw, as far as the classification depends on it."""

    risk_level: int
    symptoms: Symptoms
    insight: Rating
    social_functioning: Rating
    acute_adverse_reaction: bool
    serious_physical_illness: bool


@dataclass(frozen=True)
class RuleSet:
    version: str
    unstable_next: timedelta
    basically_stable_next: timedelta
    basically_stable_again_next: timedelta
    stable_next: timedelta


RULE_SET = RuleSet(
    version="nhc-2018/1",
    unstable_next=timedelta(weeks=2),
    basically_stable_next=timedelta(weeks=2),
    basically_stable_again_next=timedelta(days=30),
    stable_next=timedelta(days=91),
)


def classify(findings: VisitFindings) -> VisitClassification:
    f = findings
    if (
        f.risk_level >= 3
        or f.symptoms == Symptoms.OBVIOUS
        or f.insight == Rating.NONE
        or f.acute_adverse_reaction
        or f.serious_physical_illness
    ):
        return VisitClassification.UNSTABLE
    poor = (
        f.symptoms == Symptoms.PRESENT
        or f.insight == Rating.POOR
        or f.social_functioning in (Rating.POOR, Rating.NONE)
    )
    if f.risk_level >= 1 or poor:
        return VisitClassification.BASICALLY_STABLE
    return VisitClassification.STABLE


def next_follow_up(
    classification: VisitClassification,
    visited_on: date,
    previous: VisitClassification | None,
    rules: RuleSet = RULE_SET,
) -> date:
    """When the next follow-up is due.

    Basically stable: two weeks; if it is still basically stable at that follow-up, ask a
    psychiatrist and follow up within a month (a stabilised patient is classified stable and
    goes to three months).
    """
    if classification == VisitClassification.UNSTABLE:
        return visited_on + rules.unstable_next
    if classification == VisitClassification.BASICALLY_STABLE:
        again = previous == VisitClassification.BASICALLY_STABLE
        return visited_on + (
            rules.basically_stable_again_next if again else rules.basically_stable_next
        )
    return visited_on + rules.stable_next
