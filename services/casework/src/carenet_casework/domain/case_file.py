"""A patient's case file: what it records, and what its dated facts say in the order they happened.

The case's behaviour is composed by use case, each a module of its own on top of this one:
`case_deadlines` (missed follow-ups, case years), `case_referrals` (referrals, admissions,
discharges), `case_visits` (visits and emergencies) and `case` (the aggregate: case manager,
closing). Each declares the events it records (topics stored before the split: `case`).

The case keeps its dated facts and derives its schedule from them in the order they happened
(`schedule.derive`), never in the order they were recorded.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.schedule import (
    AdmissionFact,
    DischargeFact,
    Fact,
    Schedule,
    Start,
    VisitFact,
    derive,
    in_order_of_occurrence,
)
from carenet_casework.rules import RuleSet
from carenet_contracts import VisitClassification
from carenet_kit.refusals import Conflict

CASE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:case")

ACTIVE, IN_HOSPITAL, CLOSED = "active", "in_hospital", "closed"


class CaseConflict(Conflict):
    """The command does not fit the case as recorded (the text says why; 409)."""


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class CaseFile(Aggregate):
    """One patient's case file at one community health center: its state and what it says."""

    @staticmethod
    def create_id(patient_id: UUID, center_id: str, ordinal: int) -> UUID:
        """The patient's `ordinal`-th case (a patient may come back to a center)."""
        return uuid5(CASE_NAMESPACE, f"{patient_id}/{center_id}/{ordinal}")

    class Opened(Aggregate.Created):
        class_version = 3

        patient_id: UUID
        center_id: str
        diagnosing_hospital_id: str
        category: str
        risk_level: int
        first_visit_due: date
        opened_on: date
        ordinal: int
        transferred_from_case_id: UUID | None
        last_classification: str | None
        contact_key: str | None
        """The public key the patient's contact details are sealed to (private key: keystore)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["opened_on"] = state["timestamp"].date()
            state["ordinal"] = 1
            state["transferred_from_case_id"] = None
            state["last_classification"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["contact_key"] = None

    @event(Opened)
    def __init__(
        self,
        patient_id: UUID,
        center_id: str,
        diagnosing_hospital_id: str,
        category: str,
        risk_level: int,
        first_visit_due: date,
        opened_on: date,
        ordinal: int = 1,
        transferred_from_case_id: UUID | None = None,
        last_classification: str | None = None,
        contact_key: str | None = None,
    ) -> None:
        self.patient_id = patient_id
        self.center_id = center_id
        self.diagnosing_hospital_id = diagnosing_hospital_id
        self.category = category
        self.start = Start(
            first_visit_due,
            VisitClassification(last_classification) if last_classification else None,
            risk_level,
        )
        self.next_due = first_visit_due
        """The next due day as last derived and published (events set it, never a guess)."""
        self.opened_on = opened_on
        self.closed = False
        self.case_manager_id: str | None = None
        self.facts: list[Fact] = []
        """The dated facts the schedule is derived from, in the order they were recorded."""
        self.visits: list[UUID] = []
        self.admissions: list[UUID] = []
        self.missed: list[date] = []
        """Due days recorded as missed and not withdrawn."""
        self.lost_streaks: list[tuple[date, ...]] = []
        """The runs of misses recorded as making the patient lost, and not withdrawn."""
        self.years_checked = 0
        self.years_below: dict[date, date] = {}
        """Case years (from: to) found below the yearly minimum, and not withdrawn."""
        self.open_referral_id: UUID | None = None
        self.emergencies: list[UUID] = []

    # -- what the facts, in the order they happened, say -------------------------------------

    def _latest(self, kinds: type[Fact] | tuple[type[Fact], ...]) -> Fact | None:
        facts = [f for f in in_order_of_occurrence(self.facts) if isinstance(f, kinds)]
        return facts[-1] if facts else None

    @property
    def last_classification(self) -> VisitClassification | None:
        """The classification of the visit that happened last (not the one recorded last)."""
        visit = self._latest(VisitFact)
        return visit.classification if isinstance(visit, VisitFact) else self.start.classification

    @property
    def risk_level(self) -> int:
        visit = self._latest(VisitFact)
        return visit.risk_level if isinstance(visit, VisitFact) else self.start.risk_level

    @property
    def status(self) -> str:
        if self.closed:
            return CLOSED
        stay = self._latest((AdmissionFact, DischargeFact))
        return IN_HOSPITAL if isinstance(stay, AdmissionFact) else ACTIVE

    @property
    def visit_dates(self) -> list[date]:
        return [f.on for f in self.facts if isinstance(f, VisitFact)]

    def schedule(self, horizon: date, rules: RuleSet, *also: Fact) -> Schedule:
        """The schedule the facts (and `also`) give, with due days before `horizon` missed."""
        return derive(self.start, [*self.facts, *also], horizon, rules)

    def schedule_with(self, fact: Fact, rules: RuleSet) -> Schedule:
        """The schedule once `fact` is in its place, as far as the facts and misses reach.

        Due days before the latest fact are missed or not for certain, whenever recorded;
        beyond it, no further than the misses recorded so far (the scheduler looks further).
        """
        latest = max(f.on for f in [*self.facts, fact])
        recorded = max(self.missed) + timedelta(days=1) if self.missed else date.min
        return self.schedule(max(latest, recorded), rules, fact)
