"""The network's indicators, per center, district and the whole network, for one month, as of
the day reported on: counted from casework's facts (`projection_indicators`), by the day each
thing happened, so the same events give the same figures, and any day can be reported on.

The day reported on (R) is the month's last day, or an earlier day of it (`as_of`). The
definitions, written here once (the README quotes them):

- **registered**: patients with a case at the center on R (opened by R, not closed by R);
- **under management**: registered, and followed up at least once in the year up to R (the
  rule set's `window_days`); **regularly managed**: at least four times;
- **seen in person**: under management, with a home or clinic visit in that year;
- **taking medication** / **regular medication**: under management, whose latest visit found
  the medication taken (regularly or intermittently) / taken regularly;
- **stable**: under management, whose latest visit classified them stable;
- **lost to follow-up**: registered, lost to follow-up after a streak of misses (not withdrawn)
  and not visited since;
- **overdue follow-ups**: follow-ups due in the month (by R) and missed (not withdrawn);
- **with a recovery plan**: registered, with a plan agreed by R; **goals achieved**: recovery
  goals reviewed as achieved in the month;
- **referrals**: social-service referrals made, accepted, declined, started and ended in the
  month, and those ended completed;
- **prevention sessions** and their **attendance**, in the month;
- **case managers**: the people managing the registered cases; **caseload** per case manager;
- **staff** on the roster in force on R, in full-time equivalents (40 hours a week), social
  workers apart, **training hours** attended in the month, the **cases per full-time social
  worker**, and a warning (`centers_above_caseload_ratio`) where that is above the rule set's
  `caseload_warning_above`.

Rates divide a count by registered or by under management, as the design notes define them.
Aggregate only: a count of patients from 1 to `suppress_below - 1`, a rate over fewer than
`suppress_below` patients or of a suppressed count, and a caseload over a suppressed count are
not shown (None).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from carenet_casework.domain.staffing import StaffRole
from carenet_casework.projection_indicators import CaseFacts, StaffFacts
from carenet_casework.projection_recovery import ActivityView, SocialReferralView
from carenet_casework.rules import IndicatorRules, RuleSet
from carenet_contracts.common import MedicationAdherence, VisitClassification

PATIENT_COUNTS = (
    "registered",
    "under_management",
    "regularly_managed",
    "seen_in_person",
    "taking_medication",
    "regular_medication",
    "stable",
    "lost_to_follow_up",
    "overdue_follow_ups",
    "with_recovery_plan",
    "goals_achieved",
    "referrals_made",
    "referrals_accepted",
    "referrals_declined",
    "referrals_started",
    "referrals_ended",
    "referrals_completed",
)
"""Counts of patients (or of their care): suppressed when small."""
OTHER_COUNTS = ("case_managers", "prevention_sessions", "prevention_attendance")
"""Counts of staff and of community sessions: no patient in them."""
RATES = {
    "management_rate": ("under_management", "registered"),
    "regular_management_rate": ("regularly_managed", "registered"),
    "face_to_face_rate": ("seen_in_person", "under_management"),
    "medication_rate": ("taking_medication", "under_management"),
    "regular_medication_rate": ("regular_medication", "under_management"),
    "stable_rate": ("stable", "under_management"),
}
REGULAR_FOLLOW_UPS = 4
TAKING = frozenset({MedicationAdherence.REGULAR, MedicationAdherence.INTERMITTENT})


@dataclass(frozen=True)
class Period:
    """A month, reported as of its last day or an earlier day of it."""

    first: date
    day: date
    """The day reported on (R)."""

    @classmethod
    def of(cls, month: str, as_of: date | None = None) -> Period:
        """`month` as YYYY-MM; `as_of` a day of it (default: its last day)."""
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
        last = first.replace(day=calendar.monthrange(year, number)[1])
        if as_of is not None and not first <= as_of <= last:
            raise ValueError("as_of: a day of the month reported on")
        return cls(first, as_of or last)

    @property
    def month(self) -> str:
        return self.first.strftime("%Y-%m")

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.day


@dataclass(frozen=True)
class Facts:
    """What the figures are counted from (the read model's, for the centers reported on)."""

    cases: Iterable[CaseFacts]
    referrals: Iterable[SocialReferralView]
    activities: Iterable[ActivityView]
    staff: Iterable[StaffFacts]


@dataclass
class Tally:
    """One cell's raw counts (before suppression), the case managers behind them, its staff."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PATIENT_COUNTS, 0))
    managers: set[str] = field(default_factory=set)
    prevention: tuple[int, int] = (0, 0)
    full_time: dict[str, float] = field(default_factory=dict)
    training_hours: int = 0
    centers_above_ratio: int = 0

    def add(self, other: Tally) -> None:
        for name, value in other.counts.items():
            self.counts[name] += value
        self.managers |= other.managers
        self.prevention = (
            self.prevention[0] + other.prevention[0],
            self.prevention[1] + other.prevention[1],
        )
        for role, full_time in other.full_time.items():
            self.full_time[role] = round(self.full_time.get(role, 0) + full_time, 2)
        self.training_hours += other.training_hours
        self.centers_above_ratio += other.centers_above_ratio

    def cases_per_social_worker(self) -> float | None:
        social_workers = self.full_time.get(StaffRole.SOCIAL_WORKER, 0)
        if not social_workers:
            return None
        return round(self.counts["registered"] / social_workers, 1)


@dataclass(frozen=True)
class Row:
    level: str
    """center, district or network."""
    id: str
    district: str | None
    figures: dict[str, int | None]
    rates: dict[str, float | None]
    caseload_per_case_manager: float | None
    staffing: dict[str, float | None]
    centers_above_caseload_ratio: int


def tally(period: Period, rules: RuleSet, facts: Facts) -> dict[str, Tally]:
    """Each center's raw counts for the period."""
    by_center: dict[str, Tally] = {}
    year_from = period.day - timedelta(days=rules.indicators.window_days - 1)
    for case in facts.cases:
        _count_case(by_center.setdefault(case.center_id, Tally()), case, period, year_from, rules)
    for referral in facts.referrals:
        counts = by_center.setdefault(referral.center_id, Tally()).counts
        for stage, day in referral.steps.items():
            if period.holds(day):
                counts[f"referrals_{'made' if stage == 'referred' else stage}"] += 1
        ended = referral.steps.get("ended")
        if ended is not None and period.holds(ended) and referral.outcome == "completed":
            counts["referrals_completed"] += 1
    for activity in facts.activities:
        if period.holds(activity.held_on):
            center = by_center.setdefault(activity.center_id, Tally())
            sessions, attendance = center.prevention
            center.prevention = (sessions + 1, attendance + activity.attendance)
    for staff in facts.staff:
        center = by_center.setdefault(staff.center_id, Tally())
        center.full_time = staff.roster_on(period.day)
        center.training_hours = sum(h for on, h in staff.training if period.holds(on))
        per_social_worker = center.cases_per_social_worker()
        warn_above = rules.indicators.caseload_warning_above
        center.centers_above_ratio = int(
            per_social_worker is not None and per_social_worker > warn_above
        )
    return by_center


def _count_case(
    into: Tally, case: CaseFacts, period: Period, year_from: date, rules: RuleSet
) -> None:
    counts, day = into.counts, period.day
    counts["overdue_follow_ups"] += sum(period.holds(due) for due in case.misses)
    closed = case.closed_at is not None and rules.local_date(case.closed_at) <= day
    if case.opened_on > day or closed:
        return
    counts["registered"] += 1
    if case.case_manager_id is not None:
        into.managers.add(case.case_manager_id)
    visits = [v for v in case.visits if v.visited_on <= day]
    in_year = [v for v in visits if v.visited_on >= year_from]
    if in_year:
        latest = in_year[-1]
        counts["under_management"] += 1
        counts["regularly_managed"] += len(in_year) >= REGULAR_FOLLOW_UPS
        counts["seen_in_person"] += any(v.in_person for v in in_year)
        counts["taking_medication"] += latest.adherence in TAKING
        counts["regular_medication"] += latest.adherence == MedicationAdherence.REGULAR
        counts["stable"] += latest.classification == VisitClassification.STABLE
    last_visit = visits[-1].visited_on if visits else date.min
    counts["lost_to_follow_up"] += any(last_visit < lost <= day for lost in case.lost_after)
    counts["with_recovery_plan"] += case.plan_agreed_on is not None and case.plan_agreed_on <= day
    counts["goals_achieved"] += sum(period.holds(on) for on in case.goals_achieved_on)


def rows(
    tallies: Mapping[str, Tally], districts: Mapping[str, str], rules: IndicatorRules
) -> list[Row]:
    """The centers', each district's and the network's rows, suppressed where small."""
    suppress_below = rules.suppress_below
    by_district: dict[str, Tally] = {}
    network = Tally()
    found = []
    for center_id, counted in sorted(tallies.items()):
        district = districts.get(center_id, "unknown")
        found.append(_row("center", center_id, district, counted, suppress_below))
        by_district.setdefault(district, Tally()).add(counted)
        network.add(counted)
    found += [
        _row("district", district, district, counted, suppress_below)
        for district, counted in sorted(by_district.items())
    ]
    found.append(_row("network", "network", None, network, suppress_below))
    return found


def _row(level: str, row_id: str, district: str | None, counted: Tally, below: int) -> Row:
    figures: dict[str, int | None] = {
        name: None if 0 < value < below else value for name, value in counted.counts.items()
    }
    sessions, attendance = counted.prevention
    figures |= {
        "case_managers": len(counted.managers),
        "prevention_sessions": sessions,
        "prevention_attendance": attendance,
    }
    rates = {
        name: _rate(counted.counts[part], counted.counts[whole], below)
        for name, (part, whole) in RATES.items()
    }
    registered = figures["registered"]
    shown = registered is not None and registered > 0
    caseload = (
        round(counted.counts["registered"] / len(counted.managers), 1)
        if shown and counted.managers
        else None
    )
    staffing: dict[str, float | None] = {
        "social_workers_fte": counted.full_time.get(StaffRole.SOCIAL_WORKER, 0),
        "staff_fte": round(sum(counted.full_time.values()), 2),
        "training_hours": counted.training_hours,
        "cases_per_social_worker": counted.cases_per_social_worker() if shown else None,
    }
    return Row(
        level, row_id, district, figures, rates, caseload, staffing, counted.centers_above_ratio
    )


def _rate(part: int, whole: int, below: int) -> float | None:
    """None over too few patients, or where the part is a suppressed count (the rate and the
    whole would give it away)."""
    if whole < below or 0 < part < below:
        return None
    return round(part / whole, 4)


def as_csv_rows(found: list[Row], period: Period) -> list[dict[str, Any]]:
    """One flat record per row, for a CSV export (empty where suppressed)."""
    return [
        {"month": period.month, "as_of": period.day.isoformat(), "level": r.level, "id": r.id}
        | {"district": r.district or ""}
        | {name: "" if value is None else value for name, value in r.figures.items()}
        | {name: "" if value is None else value for name, value in r.rates.items()}
        | {"caseload_per_case_manager": r.caseload_per_case_manager or ""}
        | {name: "" if value is None else value for name, value in r.staffing.items()}
        | {"centers_above_caseload_ratio": r.centers_above_caseload_ratio}
        for r in found
    ]
