"""What the case manager records on a case: follow-up visits and emergencies.

A visit is classified by the rules and placed where it happened; the visit that happened last
gives the case its next due day, classification and risk, and may ask for a referral. An
emergency asks for a referral at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from carenet_casework.domain.case_file import CLOSED, CaseConflict, CaseFile
from carenet_casework.domain.case_referrals import REFERRAL_NAMESPACE, CaseReferrals
from carenet_casework.domain.schedule import VisitFact
from carenet_casework.rules import RuleSet, VisitFindings
from carenet_contracts import VisitClassification
from carenet_kit.fields import fields_of


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
    medication_adherence: str
    nonadherence_reason: str | None = None
    medication_guidance: str = ""
    """What the case manager advised about the medication, in words ("": none given)."""
    sleep: str = "fair"
    diet: str = "fair"
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


class VisitRecorded(Aggregate.Event):
    class_version = 3

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
    nonadherence_reason: str | None
    medication_guidance: str | None
    """None: a visit recorded before guidance was asked."""
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
            medication_adherence="not_recorded",  # not asked then: not a guess
            adverse_reactions="",
            admissions_since_last_visit=0,
            referral_advice="none",
            referred_to=None,
            medication=[],
            rehabilitation_measures=[],
        )

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.update(nonadherence_reason=None, medication_guidance=None)

    def apply(self, case: CaseFile) -> None:
        case.visits.append(self.visit_id)
        case.facts.append(
            VisitFact(self.visited_on, VisitClassification(self.classification), self.risk_level)
        )
        case.next_due = self.next_follow_up_due


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

    def apply(self, case: CaseFile) -> None:
        case.emergencies.append(self.emergency_id)


class CaseVisits(CaseReferrals):
    """The case manager's records on a case."""

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
        recorded = fields_of(
            VisitRecorded,
            visit,
            patient_id=self.patient_id,
            center_id=self.center_id,
            case_manager_id=self.case_manager_id,
            risk_level=f.risk_level,
            symptoms=f.symptoms.value,
            insight=f.insight.value,
            social_functioning=f.social_functioning.value,
            acute_adverse_reaction=f.acute_adverse_reaction,
            serious_physical_illness=f.serious_physical_illness,
            medication=[m.__dict__ for m in visit.medication],
            rehabilitation_measures=list(visit.rehabilitation_measures),
            classification=classification.value,
            next_follow_up_due=derived.next_due,
            rule_set_version=rules.version,
        )
        self.trigger_event(VisitRecorded, **recorded)
        self._settle(derived, f"a visit on {visit.visited_on} was recorded", rules)
        is_latest = max(derived.visit_dates) == visit.visited_on
        if is_latest and rules.asks_for_referral(classification, f.risk_level):
            reason = "risk" if f.risk_level >= rules.refer_from_risk else "unstable"
            self._request_referral_once(
                uuid5(REFERRAL_NAMESPACE, str(visit.visit_id)), reason, rules
            )
        return classification

    def record_emergency(self, emergency: Emergency, now: datetime, rules: RuleSet) -> bool:
        """Record the emergency and its handling; late past the rules' hours. Refers at once."""
        if self.status == CLOSED:
            raise CaseConflict("the case is closed")
        late = now - emergency.occurred_at > rules.hours(rules.emergency_record_within_hours)
        recorded = fields_of(
            EmergencyRecorded,
            emergency,
            patient_id=self.patient_id,
            center_id=self.center_id,
            recorded_late=late,
            rule_set_version=rules.version,
        )
        self.trigger_event(EmergencyRecorded, **recorded)
        self._request_referral_once(
            uuid5(REFERRAL_NAMESPACE, str(emergency.emergency_id)), "emergency", rules
        )
        return late
