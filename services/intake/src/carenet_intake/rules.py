"""Intake's care-pathway rules: the six categories in scope, the reporting deadline, and the
plausibility of the dates a hospital states.

The reporting deadline is the `intake` section of the network's one rule set
(`rules/nhc-2018.yaml`; `carenet_kit.rule_set`), counted in days as they pass in the rule set's
time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from pydantic import PositiveInt

from carenet_contracts import DiagnosisCategory
from carenet_intake.workdays import WorkingDayCalendar
from carenet_kit.plausibility import Implausible
from carenet_kit.rule_set import RuleSection


class IntakeRules(RuleSection):
    section: ClassVar = "intake"

    reporting_working_days: PositiveInt
    """The diagnosing hospital reports within this many working days of the diagnosis."""

    def reporting_timeliness(
        self, diagnosed_on: date, reported_on: date, calendar: WorkingDayCalendar
    ) -> ReportingTimeliness:
        """How a report on `reported_on` stands against the deadline (the diagnosis day not
        counted, as in every period counted in days under Chinese law)."""
        return ReportingTimeliness(
            diagnosed_on=diagnosed_on,
            reported_on=reported_on,
            deadline=calendar.nth_working_day_after(diagnosed_on, self.reporting_working_days),
            working_days_taken=calendar.working_days_between(diagnosed_on, reported_on),
            calendar_version=calendar.version,
            rule_set_version=self.version,
        )


IN_SCOPE = {
    "F20": DiagnosisCategory.SCHIZOPHRENIA,
    "F25": DiagnosisCategory.SCHIZOAFFECTIVE_DISORDER,
    "F22": DiagnosisCategory.PARANOID_PSYCHOSIS,
    "F31": DiagnosisCategory.BIPOLAR_DISORDER,
}


def categorise(icd10_code: str, co_diagnoses: tuple[str, ...] = ()) -> DiagnosisCategory | None:
    """The severe-disorder category of a diagnosis (care-pathway rules), or None if out of scope.

    F06 counts only with epilepsy (G40) recorded; F70-F79 only with a co-recorded mental
    disorder outside F70-F79.
    """
    block = icd10_code[:3]
    co_blocks = {code[:3] for code in co_diagnoses}
    if block in IN_SCOPE:
        return IN_SCOPE[block]
    if block == "F06" and "G40" in co_blocks:
        return DiagnosisCategory.EPILEPSY_MENTAL_DISORDER
    if "F70" <= block <= "F79" and any(
        b.startswith("F") and not "F70" <= b <= "F79" for b in co_blocks
    ):
        return DiagnosisCategory.INTELLECTUAL_DISABILITY_MENTAL_DISORDER
    return None


@dataclass(frozen=True)
class ReportingTimeliness:
    diagnosed_on: date
    reported_on: date
    deadline: date
    """The last day of the period: the rule set's nth working day after the diagnosis."""
    working_days_taken: int
    calendar_version: str
    rule_set_version: str

    @property
    def late(self) -> bool:
        """After the deadline, even on a rest day that adds no working day to the count."""
        return self.reported_on > self.deadline


OLDEST_AGE_YEARS = 120
"""A date of birth further back than this is a typing error, not a patient."""


def plausible_birth(date_of_birth: date, today: date) -> None:
    """An age of 0 to `OLDEST_AGE_YEARS` years (a date in the future is refused before this)."""
    if date_of_birth < _years_before(today, OLDEST_AGE_YEARS):
        raise Implausible(
            "date_of_birth",
            "age_out_of_bounds",
            f"makes the patient older than {OLDEST_AGE_YEARS} years",
        )


def not_before_birth(field: str, day: date, date_of_birth: date | None) -> None:
    """Nothing about a patient happened before their birth (unknown once erased: no check)."""
    if date_of_birth is not None and day < date_of_birth:
        raise Implausible(field, "before_birth", "is before the patient's date of birth")


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
