"""A case's deadlines: the follow-ups it missed, the patient lost to follow-up, its case years.

The case owns every deadline of its follow-up, so it is also where a missed deadline is
recorded, exactly once: the scheduler asks `handle_deadlines(today)`, and the case records
what has fallen due since it last looked (a later look finds nothing new). A record entered
late takes its place in the history: a miss it shows was no miss is withdrawn by an event of
its own (the miss stays in the history), and so is a lost-to-follow-up that no longer holds;
when the next due day changes, `NextFollowUpRevised` says so.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from carenet_casework.domain.case_file import CLOSED, CaseFile, add_years
from carenet_casework.domain.schedule import (
    AdmissionFact,
    DischargeFact,
    Miss,
    Schedule,
    in_order_of_occurrence,
)
from carenet_casework.rules import RuleSet


class FollowUpMissed(Aggregate.Event):
    patient_id: UUID
    center_id: str
    case_manager_id: str | None
    due_on: date
    first_visit: bool
    consecutive_misses: int
    rescheduled_to: date
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.missed.append(self.due_on)
        case.next_due = self.rescheduled_to


class LostToFollowUp(Aggregate.Event):
    patient_id: UUID
    center_id: str
    case_manager_id: str | None
    missed_due_dates: list[date]
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.lost_streaks.append(tuple(self.missed_due_dates))


class FollowUpMissWithdrawn(Aggregate.Event):
    """A miss recorded earlier was none: a record entered late shows the history otherwise.

    The miss stays in the history; this event says, from now on, it no longer counts.
    """

    patient_id: UUID
    center_id: str
    case_manager_id: str | None
    due_on: date
    reason: str
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.missed.remove(self.due_on)


class LostToFollowUpWithdrawn(Aggregate.Event):
    """The misses that made the patient lost to follow-up are no longer misses in a row."""

    patient_id: UUID
    center_id: str
    case_manager_id: str | None
    missed_due_dates: list[date]
    reason: str
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.lost_streaks.remove(tuple(self.missed_due_dates))


class NextFollowUpRevised(Aggregate.Event):
    """The next due day changed because of a record entered late or a miss found late."""

    patient_id: UUID
    center_id: str
    due_on: date
    previous_due_on: date
    reason: str
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.next_due = self.due_on


class YearChecked(Aggregate.Event):
    patient_id: UUID
    center_id: str
    year_from: date
    year_to: date
    follow_ups: int
    required: int
    below_minimum: bool
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.years_checked += 1
        if self.below_minimum:
            case.years_below[self.year_from] = self.year_to


class YearRecounted(Aggregate.Event):
    """Records entered late change a checked case year: its visits, or whether the patient
    was at home at its end. `below_minimum` is the year's finding from now on."""

    patient_id: UUID
    center_id: str
    year_from: date
    year_to: date
    follow_ups: int
    required: int
    below_minimum: bool
    reason: str
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        if self.below_minimum:
            case.years_below[self.year_from] = self.year_to
        else:
            del case.years_below[self.year_from]


class CaseDeadlines(CaseFile):
    """The scheduler's side of a case: its misses and case years, kept in line with its facts."""

    def next_year_check(self) -> date:
        return add_years(self.opened_on, self.years_checked + 1)

    def handle_deadlines(self, today: date, rules: RuleSet) -> bool:
        """Record every deadline that passed before `today`; returns whether any had.

        The misses are those of the schedule derived from the facts in the order they
        happened (`schedule.derive`); each due day is recorded as missed once, however often
        the scheduler looks. A run of misses that is still going on when it reaches the rules'
        count makes the patient lost to follow-up (a run that a visit already ended is history,
        not an escalation).
        """
        if self.status == CLOSED:
            return False
        version = len(self.pending_events)
        self._settle(self.schedule(today, rules), "the follow-up history was derived again", rules)
        while self.next_year_check() <= today:
            self._check_year(rules)
        return len(self.pending_events) > version

    def _settle(self, derived: Schedule, reason: str, rules: RuleSet) -> None:
        """Bring what is recorded in line with the derived history, each change once.

        Misses it no longer holds are withdrawn, with `reason`; misses it holds are recorded
        (also those a late record reveals before a later visit: history, not an escalation);
        a checked case year is counted again; the next due day is revised if it moved.
        """
        still_missed = {miss.due_on for miss in derived.misses}
        for due_on in [d for d in self.missed if d not in still_missed]:
            self.trigger_event(
                FollowUpMissWithdrawn,
                patient_id=self.patient_id,
                center_id=self.center_id,
                case_manager_id=self.case_manager_id,
                due_on=due_on,
                reason=reason,
                rule_set_version=rules.version,
            )
        for streak in [s for s in self.lost_streaks if s not in derived.lost_streaks]:
            self.trigger_event(
                LostToFollowUpWithdrawn,
                patient_id=self.patient_id,
                center_id=self.center_id,
                case_manager_id=self.case_manager_id,
                missed_due_dates=list(streak),
                reason=reason,
                rule_set_version=rules.version,
            )
        for miss in derived.misses:
            if miss.due_on not in self.missed:
                self._record_miss(miss, rules)
        current = derived.lost_streaks[-1] if derived.lost else None
        if current is not None and current not in self.lost_streaks:
            self.trigger_event(
                LostToFollowUp,
                patient_id=self.patient_id,
                center_id=self.center_id,
                case_manager_id=self.case_manager_id,
                missed_due_dates=list(current),
                rule_set_version=rules.version,
            )
        for year in range(self.years_checked):
            year_from, year_to = (
                add_years(self.opened_on, year),
                add_years(self.opened_on, year + 1),
            )
            follow_ups, below = self._year_count(year_from, year_to, rules)
            if below != (year_from in self.years_below):
                self.trigger_event(
                    YearRecounted,
                    patient_id=self.patient_id,
                    center_id=self.center_id,
                    year_from=year_from,
                    year_to=year_to,
                    follow_ups=follow_ups,
                    required=rules.yearly_minimum_follow_ups,
                    below_minimum=below,
                    reason=reason,
                    rule_set_version=rules.version,
                )
        if derived.next_due != self.next_due:
            self.trigger_event(
                NextFollowUpRevised,
                patient_id=self.patient_id,
                center_id=self.center_id,
                due_on=derived.next_due,
                previous_due_on=self.next_due,
                reason=reason,
                rule_set_version=rules.version,
            )

    def _record_miss(self, miss: Miss, rules: RuleSet) -> None:
        self.trigger_event(
            FollowUpMissed,
            patient_id=self.patient_id,
            center_id=self.center_id,
            case_manager_id=self.case_manager_id,
            due_on=miss.due_on,
            first_visit=miss.first_visit,
            consecutive_misses=miss.consecutive,
            rescheduled_to=miss.rescheduled_to,
            rule_set_version=rules.version,
        )

    def _check_year(self, rules: RuleSet) -> None:
        year_from = add_years(self.opened_on, self.years_checked)
        year_to = self.next_year_check()
        follow_ups, below = self._year_count(year_from, year_to, rules)
        self.trigger_event(
            YearChecked,
            patient_id=self.patient_id,
            center_id=self.center_id,
            year_from=year_from,
            year_to=year_to,
            follow_ups=follow_ups,
            required=rules.yearly_minimum_follow_ups,
            below_minimum=below,
            rule_set_version=rules.version,
        )

    def _year_count(self, year_from: date, year_to: date, rules: RuleSet) -> tuple[int, bool]:
        """The follow-ups of a case year, and whether they fall short of the minimum: it is
        for patients living at home, not for one in hospital at the end of the year."""
        follow_ups = sum(1 for d in self.visit_dates if year_from <= d < year_to)
        stays = [f for f in in_order_of_occurrence(self.facts) if f.on < year_to]
        stays = [f for f in stays if isinstance(f, AdmissionFact | DischargeFact)]
        at_home = not stays or isinstance(stays[-1], DischargeFact)
        return follow_ups, at_home and follow_ups < rules.yearly_minimum_follow_ups
