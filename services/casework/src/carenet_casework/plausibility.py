"""Which dates casework believes: the plausibility rules of every dated field it accepts.

A record may be entered late: that is normal, and the schedule places it where it belongs.
A date that cannot be true is refused instead of being placed: a visit dated after today at the
centers, or before the case was opened; an emergency that has not begun yet, or began before
the case was opened; a relative's consent given or withdrawn after today or before the case;
a rehabilitation session more than a year away on either side; a prevention activity held
after today or more than a year ago. "After
today" allows the clock tolerance (`CARENET_CLOCK_TOLERANCE_SECONDS`, 300 by default) for a
client whose clock runs a little ahead. Casework does not know a patient's date of birth (intake
keeps it), so "not before birth" is intake's rule; a case is never opened before the patient's
diagnosis, which bounds every date checked against the case's opening.

A refusal (the kit's `Implausible`) names the field and the rule, never the value: dates of
care are personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from carenet_casework.rules import RuleSet
from carenet_kit.plausibility import Implausible, refuse_future

BEFORE_CASE = "must not be before the case was opened"

SESSION_WINDOW = timedelta(days=366)
"""A session is planned at most a year ahead and recorded at most a year after it was held."""


@dataclass(frozen=True)
class DateRules:
    rules: RuleSet
    clock_tolerance: timedelta

    def _not_future(self, field: str, stated: date, now: datetime) -> None:
        refuse_future(field, stated, now, self.rules.zone, self.clock_tolerance)

    def visit(self, visited_on: date, opened_on: date, now: datetime) -> None:
        self._not_future("visited_on", visited_on, now)
        if visited_on < opened_on:
            raise Implausible("visited_on", "before_case", BEFORE_CASE)

    def emergency(self, occurred_at: datetime, opened_on: date, now: datetime) -> None:
        self._not_future("occurred_at", occurred_at, now)
        if self.rules.local_date(occurred_at) < opened_on:
            raise Implausible("occurred_at", "before_case", BEFORE_CASE)

    def consent(self, field: str, day: date, opened_on: date, now: datetime) -> None:
        """A consent given or withdrawn: not ahead of today, not before the care team's case.

        (Against the relative's own history, the `Family` aggregate checks the order.)"""
        self._not_future(field, day, now)
        if day < opened_on:
            raise Implausible(field, "before_case", BEFORE_CASE)

    def prevention(self, held_on: date, now: datetime) -> None:
        """A prevention activity is recorded after it was held, within a year."""
        self._not_future("held_on", held_on, now)
        if held_on < self.rules.local_date(now) - SESSION_WINDOW:
            raise Implausible("held_on", "outside_year", "must be within a year of today")

    def session(self, held_on: date, now: datetime) -> None:
        today = self.rules.local_date(now)
        if not today - SESSION_WINDOW <= held_on <= today + SESSION_WINDOW:
            raise Implausible("held_on", "outside_year", "must be within a year of today")
