"""A case's follow-up schedule, folded from its dated facts in the order they happened.

Records arrive late: a visit made nine days ago may be entered after today's. The schedule is
therefore never the result of applying records in the order they were entered: it is this
pure function of the case's dated facts (visits, admissions, discharges, joint follow-ups),
sorted by the day they happened, under the rule set. A late record takes its place in the
history and everything after it follows from there, so it never overrules anything newer.

Facts of the same day are taken visit, joint follow-up, admission, discharge: an admission on
the day of a visit follows the visit that asked for it, a discharge follows an admission of the
same day, and a discharge's interval wins over a same-day visit's (the earlier follow-up is the
safer one). Facts of the same kind on the same day keep the order they were recorded in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from carenet_casework.rules import RuleSet
from carenet_contracts import VisitClassification


@dataclass(frozen=True)
class VisitFact:
    on: date
    classification: VisitClassification
    risk_level: int


@dataclass(frozen=True)
class AdmissionFact:
    on: date


@dataclass(frozen=True)
class DischargeFact:
    on: date


@dataclass(frozen=True)
class JointFollowUpFact:
    """A referral ended without an admission: follow up jointly within the unstable interval."""

    on: date


Fact = VisitFact | AdmissionFact | DischargeFact | JointFollowUpFact

_SAME_DAY_ORDER: dict[type[Fact], int] = {
    VisitFact: 0,
    JointFollowUpFact: 1,
    AdmissionFact: 2,
    DischargeFact: 3,
}


def in_order_of_occurrence(facts: Iterable[Fact]) -> list[Fact]:
    """By day, then by the same-day order above; `sorted` keeps the recorded order of ties."""
    return sorted(facts, key=lambda fact: (fact.on, _SAME_DAY_ORDER[type(fact)]))


@dataclass(frozen=True)
class Start:
    """What the case knew when it opened: the first visit's due day, the carried-over state."""

    first_visit_due: date
    classification: VisitClassification | None
    risk_level: int


@dataclass(frozen=True)
class Miss:
    due_on: date
    first_visit: bool
    consecutive: int
    rescheduled_to: date


@dataclass(frozen=True)
class Schedule:
    """The case's follow-up deadlines, as the facts in the order they happened give them.

    (Classification, risk and whether the patient is in hospital need no rules: the case reads
    them from its latest facts in the same order, `in_order_of_occurrence`.)"""

    next_due: date
    misses: tuple[Miss, ...]
    """Every follow-up missed in the whole history, counted up to the horizon."""
    lost_streaks: tuple[tuple[date, ...], ...]
    """Each run of misses that made the patient lost to follow-up (its first misses)."""
    lost: bool
    """Lost to follow-up now: the current streak reached the rules' count."""
    visit_dates: tuple[date, ...]


def derive(start: Start, facts: Iterable[Fact], horizon: date, rules: RuleSet) -> Schedule:
    """Fold the facts in the order they happened; due days before `horizon` count as missed.

    A due day is missed once the whole day has passed without a visit; it is due again after
    the rules' reschedule interval; the rules' count of misses in a row makes the patient lost
    to follow-up, after which nothing more is counted until the next visit or discharge. In
    hospital, nothing is due.
    """
    fold = _Fold(start, rules)
    for fact in in_order_of_occurrence(facts):
        fold.misses_before(fact.on)
        fold.take(fact)
    fold.misses_before(horizon)
    return Schedule(
        next_due=fold.next_due,
        misses=tuple(fold.misses),
        lost_streaks=tuple(fold.lost_streaks),
        lost=fold.lost,
        visit_dates=tuple(fold.visit_dates),
    )


class _Fold:
    """The state while folding: what the next fact's rules depend on, and what was missed."""

    def __init__(self, start: Start, rules: RuleSet) -> None:
        self.rules = rules
        self.classification = start.classification
        """The previous visit's, which the next visit's interval depends on."""
        self.next_due = start.first_visit_due
        self.in_hospital = False
        self.misses: list[Miss] = []
        self.streak: list[date] = []
        self.lost = False
        self.lost_streaks: list[tuple[date, ...]] = []
        self.visit_dates: list[date] = []

    def misses_before(self, day: date) -> None:
        rules = self.rules.missed_follow_up
        while not self.in_hospital and not self.lost and self.next_due < day:
            due = self.next_due
            self.next_due = due + self.rules.days(rules.reschedule_days)
            self.misses.append(
                Miss(
                    due_on=due,
                    first_visit=not self.visit_dates and not self.streak,
                    consecutive=len(self.streak) + 1,
                    rescheduled_to=self.next_due,
                )
            )
            self.streak.append(due)
            if len(self.streak) >= rules.lost_after_consecutive:
                self.lost = True
                self.lost_streaks.append(tuple(self.streak))

    def take(self, fact: Fact) -> None:
        match fact:
            case VisitFact():
                self.next_due = self.rules.next_follow_up(
                    fact.classification, fact.on, self.classification
                )
                self.classification = fact.classification
                self.visit_dates.append(fact.on)
                self._streak_ends()
            case AdmissionFact():
                self.in_hospital = True
            case DischargeFact():
                self.in_hospital = False
                self.next_due = fact.on + self.rules.days(self.rules.follow_up_days.after_discharge)
                self._streak_ends()
            case JointFollowUpFact():
                unstable = self.rules.days(self.rules.follow_up_days.unstable)
                self.next_due = min(self.next_due, fact.on + unstable)

    def _streak_ends(self) -> None:
        self.streak, self.lost = [], False
