"""Casework's read model: cases by id, by patient, by center and by case manager."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import Case


@dataclass
class VisitSummary:
    visit_id: UUID
    visited_on: date
    mode: str
    risk_level: int
    classification: str
    next_follow_up_due: date
    rule_set_version: str


@dataclass
class CaseView:
    case_id: UUID
    patient_id: UUID
    center_id: str
    category: str
    risk_level: int
    next_follow_up_due: date
    case_manager_id: str | None = None
    visits: list[VisitSummary] = field(default_factory=list)


@dataclass
class CaseBoard:
    cases: dict[UUID, CaseView] = field(default_factory=dict)

    @singledispatchmethod
    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        """Events this read model does not need are ignored."""

    @apply.register
    def _(self, e: Case.Opened) -> None:
        self.cases[e.originator_id] = CaseView(
            case_id=e.originator_id,
            patient_id=e.patient_id,
            center_id=e.center_id,
            category=e.category,
            risk_level=e.risk_level,
            next_follow_up_due=e.first_visit_due,
        )

    @apply.register
    def _(self, e: Case.ManagerAssigned) -> None:
        self.cases[e.originator_id].case_manager_id = e.case_manager_id

    @apply.register
    def _(self, e: Case.VisitRecorded) -> None:
        case = self.cases[e.originator_id]
        case.risk_level = e.risk_level
        case.next_follow_up_due = e.next_follow_up_due
        case.visits.append(
            VisitSummary(
                visit_id=e.visit_id,
                visited_on=e.visited_on,
                mode=e.mode,
                risk_level=e.risk_level,
                classification=e.classification,
                next_follow_up_due=e.next_follow_up_due,
                rule_set_version=e.rule_set_version,
            )
        )

    def case(self, case_id: UUID) -> CaseView | None:
        return self.cases.get(case_id)

    def find(
        self,
        patient_id: UUID | None = None,
        center_id: str | None = None,
        case_manager_id: str | None = None,
    ) -> list[CaseView]:
        return [
            c
            for c in self.cases.values()
            if (patient_id is None or c.patient_id == patient_id)
            and (center_id is None or c.center_id == center_id)
            and (case_manager_id is None or c.case_manager_id == case_manager_id)
        ]
