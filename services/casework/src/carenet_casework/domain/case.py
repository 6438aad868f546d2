"""A patient's case at a community health center: its case manager, follow-ups and deadlines.

The case owns every deadline of its follow-up, so it is also where a missed deadline is
recorded, exactly once: the scheduler asks `handle_deadlines(today)`, and the case records
what has fallen due since it last looked (a later look finds nothing new).

The case keeps its dated facts and derives its schedule from them in the order they happened
(`schedule.derive`), never in the order they were recorded. A record entered late takes its
place in the history: a miss it shows was no miss is withdrawn by an event of its own (the
miss stays in the history), and so is a lost-to-follow-up that no longer holds; when the next
due day changes, `NextFollowUpRevised` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.schedule import (
    AdmissionFact,
    DischargeFact,
    Fact,
    JointFollowUpFact,
    Miss,
    Schedule,
    Start,
    VisitFact,
    derive,
    in_order_of_occurrence,
)
from carenet_casework.rules import RuleSet, VisitFindings
from carenet_contracts import VisitClassification

CASE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:case")
REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:referral")

ACTIVE, IN_HOSPITAL, CLOSED = "active", "in_hospital", "closed"


class CaseConflict(ValueError):
    """The command does not fit the case as recorded (the text says why)."""


@dataclass(frozen=True)
class Medication:
    drug: str
    daily_dose: str


@dataclass(frozen=True)
class Visit:
    """A follow-up as the case manager records it, the national form's fields.

    The rules add the classification and the next due date.
    """

    visit_id: UUID
    visited_on: date
    mode: str
    seen: str
    findings: VisitFindings
    sleep: str = "fair"
    diet: str = "fair"
    medication_adherence: str = "regular"
    adverse_reactions: str = ""
    admissions_since_last_visit: int = 0
    referral_advice: str = "none"
    referred_to: str | None = None
    medication: tuple[Medication, ...] = ()
    rehabilitation_measures: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Emergency:
    emergency_id: UUID
    kind: str
    occurred_at: datetime
    handled_by: str
    handling: str


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class Case(Aggregate):
    """One patient's case file at one community health center."""

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

    # -- case manager ------------------------------------------------------------------------

    class ManagerAssigned(Aggregate.Event):
        patient_id: UUID
        center_id: str
        case_manager_id: str
        reason: str

    @event(ManagerAssigned)
    def _assign_manager(
        self, patient_id: UUID, center_id: str, case_manager_id: str, reason: str
    ) -> None:
        self.case_manager_id = case_manager_id

    def assign_manager(self, case_manager_id: str, reason: str) -> None:
        self._assign_manager(self.patient_id, self.center_id, case_manager_id, reason)

    # -- visits --------------------------------------------------------------------------------

    class VisitRecorded(Aggregate.Event):
        class_version = 2

        patient_id: UUID
        center_id: str
        case_manager_id: str
        visit_id: UUID
        visited_on: date
        mode: str
        seen: str
        risk_level: int
        symptoms: str
        insight: str
        social_functioning: str
        acute_adverse_reaction: bool
        serious_physical_illness: bool
        sleep: str
        diet: str
        medication_adherence: str
        adverse_reactions: str
        admissions_since_last_visit: int
        referral_advice: str
        referred_to: str | None
        medication: list[dict[str, str]]
        rehabilitation_measures: list[str]
        notes: str
        classification: str
        next_follow_up_due: date
        rule_set_version: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(
                sleep="fair",
                diet="fair",
                medication_adherence="regular",
                adverse_reactions="",
                admissions_since_last_visit=0,
                referral_advice="none",
                referred_to=None,
                medication=[],
                rehabilitation_measures=[],
            )

        def apply(self, case: Case) -> None:
            case.visits.append(self.visit_id)
            case.facts.append(
                VisitFact(
                    self.visited_on, VisitClassification(self.classification), self.risk_level
                )
            )
            case.next_due = self.next_follow_up_due

    def record_visit(self, visit: Visit, rules: RuleSet) -> VisitClassification:
        """Classify the visit by the rules, place it where it happened, refer when it says so.

        A visit entered late changes the schedule only as far as the history after it allows:
        the case's next due day, classification and risk come from the visit that happened
        last, and only that visit may ask for a referral.
        """
        if self.status == CLOSED:
            raise CaseConflict("the case is closed")
        if self.case_manager_id is None:
            raise CaseConflict("the case has no case manager yet")
        if visit.visit_id in self.visits:
            raise CaseConflict("this visit is already recorded")
        f = visit.findings
        classification = rules.classify(f)
        fact = VisitFact(visit.visited_on, classification, f.risk_level)
        derived = self.schedule_with(fact, rules)
        self.trigger_event(
            self.VisitRecorded,
            patient_id=self.patient_id,
            center_id=self.center_id,
            case_manager_id=self.case_manager_id,
            visit_id=visit.visit_id,
            visited_on=visit.visited_on,
            mode=visit.mode,
            seen=visit.seen,
            risk_level=f.risk_level,
            symptoms=f.symptoms.value,
            insight=f.insight.value,
            social_functioning=f.social_functioning.value,
            acute_adverse_reaction=f.acute_adverse_reaction,
            serious_physical_illness=f.serious_physical_illness,
            sleep=visit.sleep,
            diet=visit.diet,
            medication_adherence=visit.medication_adherence,
            adverse_reactions=visit.adverse_reactions,
            admissions_since_last_visit=visit.admissions_since_last_visit,
            referral_advice=visit.referral_advice,
            referred_to=visit.referred_to,
            medication=[m.__dict__ for m in visit.medication],
            rehabilitation_measures=list(visit.rehabilitation_measures),
            notes=visit.notes,
            classification=classification.value,
            next_follow_up_due=derived.next_due,
            rule_set_version=rules.version,
        )
        self._settle(derived, f"a visit on {visit.visited_on} was recorded", rules)
        is_latest = max(derived.visit_dates) == visit.visited_on
        if is_latest and rules.asks_for_referral(classification, f.risk_level):
            reason = "risk" if f.risk_level >= rules.refer_from_risk else "unstable"
            self._request_referral_once(
                uuid5(REFERRAL_NAMESPACE, str(visit.visit_id)), reason, rules
            )
        return classification

    # -- deadlines (the scheduler) -------------------------------------------------------------

    class FollowUpMissed(Aggregate.Event):
        patient_id: UUID
        center_id: str
        case_manager_id: str | None
        due_on: date
        first_visit: bool
        consecutive_misses: int
        rescheduled_to: date
        rule_set_version: str

        def apply(self, case: Case) -> None:
            case.missed.append(self.due_on)
            case.next_due = self.rescheduled_to

    class LostToFollowUp(Aggregate.Event):
        patient_id: UUID
        center_id: str
        case_manager_id: str | None
        missed_due_dates: list[date]
        rule_set_version: str

        def apply(self, case: Case) -> None:
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

        def apply(self, case: Case) -> None:
            case.missed.remove(self.due_on)

    class LostToFollowUpWithdrawn(Aggregate.Event):
        """The misses that made the patient lost to follow-up are no longer misses in a row."""

        patient_id: UUID
        center_id: str
        case_manager_id: str | None
        missed_due_dates: list[date]
        reason: str
        rule_set_version: str

        def apply(self, case: Case) -> None:
            case.lost_streaks.remove(tuple(self.missed_due_dates))

    class NextFollowUpRevised(Aggregate.Event):
        """The next due day changed because of a record entered late or a miss found late."""

        patient_id: UUID
        center_id: str
        due_on: date
        previous_due_on: date
        reason: str
        rule_set_version: str

        def apply(self, case: Case) -> None:
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

        def apply(self, case: Case) -> None:
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

        def apply(self, case: Case) -> None:
            if self.below_minimum:
                case.years_below[self.year_from] = self.year_to
            else:
                del case.years_below[self.year_from]

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
                self.FollowUpMissWithdrawn,
                patient_id=self.patient_id,
                center_id=self.center_id,
                case_manager_id=self.case_manager_id,
                due_on=due_on,
                reason=reason,
                rule_set_version=rules.version,
            )
        for streak in [s for s in self.lost_streaks if s not in derived.lost_streaks]:
            self.trigger_event(
                self.LostToFollowUpWithdrawn,
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
                self.LostToFollowUp,
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
                    self.YearRecounted,
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
                self.NextFollowUpRevised,
                patient_id=self.patient_id,
                center_id=self.center_id,
                due_on=derived.next_due,
                previous_due_on=self.next_due,
                reason=reason,
                rule_set_version=rules.version,
            )

    def _record_miss(self, miss: Miss, rules: RuleSet) -> None:
        self.trigger_event(
            self.FollowUpMissed,
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
            self.YearChecked,
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

    # -- referral, admission, discharge, emergencies ---------------------------------------

    class ReferralRequested(Aggregate.Event):
        patient_id: UUID
        center_id: str
        referral_id: UUID
        reason: str
        risk_level: int
        rule_set_version: str

        def apply(self, case: Case) -> None:
            case.open_referral_id = self.referral_id

    def _request_referral_once(self, referral_id: UUID, reason: str, rules: RuleSet) -> None:
        if self.open_referral_id is None and self.status == ACTIVE:
            self.trigger_event(
                self.ReferralRequested,
                patient_id=self.patient_id,
                center_id=self.center_id,
                referral_id=referral_id,
                reason=reason,
                risk_level=self.risk_level,
                rule_set_version=rules.version,
            )

    class ReferralWithdrawn(Aggregate.Event):
        patient_id: UUID
        referral_id: UUID
        reason: str

    @event(ReferralWithdrawn)
    def _referral_withdrawn(self, patient_id: UUID, referral_id: UUID, reason: str) -> None:
        self.open_referral_id = None

    def withdraw_referral(self, referral_id: UUID, reason: str) -> None:
        if self.open_referral_id != referral_id:
            raise CaseConflict("this referral is not open on the case")
        if self.status == IN_HOSPITAL:
            raise CaseConflict("the patient has been admitted; the referral is complete")
        self._referral_withdrawn(self.patient_id, referral_id, reason)

    class ReferralEnded(Aggregate.Event):
        referral_id: UUID
        outcome: str

    @event(ReferralEnded)
    def _referral_ended(self, referral_id: UUID, outcome: str) -> None:
        self.open_referral_id = None

    def referral_ended(self, referral_id: UUID, outcome: str) -> bool:
        """Routing cancelled or gave up the referral: a new one may be asked for."""
        if self.open_referral_id != referral_id or self.status == IN_HOSPITAL:
            return False
        self._referral_ended(referral_id, outcome)
        return True

    class JointFollowUpScheduled(Aggregate.Event):
        """The referral ended without an admission: the next follow-up is a joint one."""

        class_version = 2

        patient_id: UUID
        center_id: str
        referral_id: UUID
        outcome: str
        decided_on: date
        due_on: date
        """The case's next due day once the joint follow-up is in its place."""
        rule_set_version: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["decided_on"] = state["timestamp"].date()

        def apply(self, case: Case) -> None:
            case.facts.append(JointFollowUpFact(self.decided_on))
            case.open_referral_id = None
            case.next_due = self.due_on

    def referral_not_admitted(
        self, referral_id: UUID, outcome: str, today: date, rules: RuleSet
    ) -> bool:
        """The hospital declined, or none could be chosen: the rules' "if not admitted, follow up
        jointly (psychiatrist, neighbourhood committee, police)", within the unstable interval."""
        if self.open_referral_id != referral_id or self.status != ACTIVE:
            return False
        derived = self.schedule_with(JointFollowUpFact(today), rules)
        self.trigger_event(
            self.JointFollowUpScheduled,
            patient_id=self.patient_id,
            center_id=self.center_id,
            referral_id=referral_id,
            outcome=outcome,
            decided_on=today,
            due_on=derived.next_due,
            rule_set_version=rules.version,
        )
        self._settle(derived, f"a joint follow-up was decided on {today}", rules)
        return True

    class Admitted(Aggregate.Event):
        admission_id: UUID
        hospital_id: str
        admitted_on: date

        def apply(self, case: Case) -> None:
            case.admissions.append(self.admission_id)
            case.facts.append(AdmissionFact(self.admitted_on))

    def admitted(
        self, admission_id: UUID, hospital_id: str, admitted_on: date, rules: RuleSet
    ) -> bool:
        """In hospital from `admitted_on`, however late the hospital's report arrives: a miss
        recorded while the patient was in fact in hospital is withdrawn."""
        if self.status == CLOSED or admission_id in self.admissions:
            return False
        derived = self.schedule_with(AdmissionFact(admitted_on), rules)
        self.trigger_event(
            self.Admitted,
            admission_id=admission_id,
            hospital_id=hospital_id,
            admitted_on=admitted_on,
        )
        self._settle(derived, f"an admission on {admitted_on} was reported", rules)
        return True

    class ResumedAfterDischarge(Aggregate.Event):
        patient_id: UUID
        center_id: str
        admission_id: UUID
        discharged_on: date
        due_on: date
        """The case's next due day once the discharge is in its place (a visit after the
        discharge, entered before it, keeps its schedule)."""
        rule_set_version: str

        def apply(self, case: Case) -> None:
            case.facts.append(DischargeFact(self.discharged_on))
            case.next_due = self.due_on
            case.open_referral_id = None

    def discharged(self, admission_id: UUID, discharged_on: date, rules: RuleSet) -> bool:
        """Back from hospital: the community follows up within the rules' interval."""
        if self.status == CLOSED:
            return False
        derived = self.schedule_with(DischargeFact(discharged_on), rules)
        self.trigger_event(
            self.ResumedAfterDischarge,
            patient_id=self.patient_id,
            center_id=self.center_id,
            admission_id=admission_id,
            discharged_on=discharged_on,
            due_on=derived.next_due,
            rule_set_version=rules.version,
        )
        self._settle(derived, f"a discharge on {discharged_on} was reported", rules)
        return True

    class EmergencyRecorded(Aggregate.Event):
        patient_id: UUID
        center_id: str
        emergency_id: UUID
        kind: str
        occurred_at: datetime
        handled_by: str
        handling: str
        recorded_late: bool
        rule_set_version: str

        def apply(self, case: Case) -> None:
            case.emergencies.append(self.emergency_id)

    def record_emergency(self, emergency: Emergency, now: datetime, rules: RuleSet) -> bool:
        """Record the emergency and its handling; late past the rules' hours. Refers at once."""
        if self.status == CLOSED:
            raise CaseConflict("the case is closed")
        late = now - emergency.occurred_at > rules.hours(rules.emergency_record_within_hours)
        self.trigger_event(
            self.EmergencyRecorded,
            patient_id=self.patient_id,
            center_id=self.center_id,
            emergency_id=emergency.emergency_id,
            kind=emergency.kind,
            occurred_at=emergency.occurred_at,
            handled_by=emergency.handled_by,
            handling=emergency.handling,
            recorded_late=late,
            rule_set_version=rules.version,
        )
        self._request_referral_once(
            uuid5(REFERRAL_NAMESPACE, str(emergency.emergency_id)), "emergency", rules
        )
        return late

    # -- closing --------------------------------------------------------------------------------

    class Closed(Aggregate.Event):
        patient_id: UUID
        center_id: str
        reason: str
        continued_by_case_id: UUID | None

        def apply(self, case: Case) -> None:
            case.closed = True

    def close(self, reason: str, continued_by_case_id: UUID | None) -> None:
        if self.status != CLOSED:
            self.trigger_event(
                self.Closed,
                patient_id=self.patient_id,
                center_id=self.center_id,
                reason=reason,
                continued_by_case_id=continued_by_case_id,
            )

    class ManagerReassigned(Aggregate.Event):
        patient_id: UUID
        center_id: str
        case_manager_id: str
        previous_case_manager_id: str | None
        reason: str

    @event(ManagerReassigned)
    def reassign_manager(
        self,
        patient_id: UUID,
        center_id: str,
        case_manager_id: str,
        previous_case_manager_id: str | None,
        reason: str,
    ) -> None:
        self.case_manager_id = case_manager_id
