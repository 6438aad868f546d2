"""A patient's case at a community health center: its case manager and its follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework import rules
from carenet_contracts import VisitClassification

CASE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:case")


@dataclass(frozen=True)
class Visit:
    """A follow-up as the case manager records it (the rules add classification and due date)."""

    visit_id: UUID
    visited_on: date
    mode: str
    seen: str
    findings: rules.VisitFindings
    notes: str


class Case(Aggregate):
    """One patient's case file at one community health center."""

    @staticmethod
    def create_id(patient_id: UUID, center_id: str) -> UUID:
        return uuid5(CASE_NAMESPACE, f"{patient_id}/{center_id}")

    class Opened(Aggregate.Created):
        patient_id: UUID
        center_id: str
        diagnosing_hospital_id: str
        category: str
        risk_level: int
        first_visit_due: date

    @event(Opened)
    def __init__(
        self,
        patient_id: UUID,
        center_id: str,
        diagnosing_hospital_id: str,
        category: str,
        risk_level: int,
        first_visit_due: date,
    ) -> None:
        self.patient_id = patient_id
        self.center_id = center_id
        self.diagnosing_hospital_id = diagnosing_hospital_id
        self.category = category
        self.risk_level = risk_level
        self.next_due = first_visit_due
        self.case_manager_id: str | None = None
        self.last_classification: VisitClassification | None = None
        self.visits: list[UUID] = []

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

    class VisitRecorded(Aggregate.Event):
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
        notes: str
        classification: str
        next_follow_up_due: date
        rule_set_version: str

    @event(VisitRecorded)
    def _record_visit(
        self,
        patient_id: UUID,
        center_id: str,
        case_manager_id: str,
        visit_id: UUID,
        visited_on: date,
        mode: str,
        seen: str,
        risk_level: int,
        symptoms: str,
        insight: str,
        social_functioning: str,
        acute_adverse_reaction: bool,
        serious_physical_illness: bool,
        notes: str,
        classification: str,
        next_follow_up_due: date,
        rule_set_version: str,
    ) -> None:
        self.visits.append(visit_id)
        self.last_classification = VisitClassification(classification)
        self.next_due = next_follow_up_due
        self.risk_level = risk_level

    def record_visit(self, visit: Visit) -> VisitClassification:
        """Classify the visit by the rules, set the next due date, and record it."""
        if self.case_manager_id is None:
            raise ValueError("the case has no case manager yet")
        classification = rules.classify(visit.findings)
        due = rules.next_follow_up(classification, visit.visited_on, self.last_classification)
        f = visit.findings
        self._record_visit(
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
            notes=visit.notes,
            classification=classification.value,
            next_follow_up_due=due,
            rule_set_version=rules.RULE_SET.version,
        )
        return classification

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
