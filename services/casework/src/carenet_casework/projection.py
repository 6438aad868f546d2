"""Casework's read model: cases by id, patient, center and case manager, and what falls due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import Case
from carenet_casework.domain.case import ACTIVE, CLOSED, IN_HOSPITAL, add_years


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
    opened_on: date
    transferred_from_case_id: UUID | None
    status: str = ACTIVE
    case_manager_id: str | None = None
    closed_reason: str | None = None
    consecutive_misses: int = 0
    lost_to_follow_up: bool = False
    years_checked: int = 0
    open_referral_id: UUID | None = None
    emergencies: int = 0
    visits: list[VisitSummary] = field(default_factory=list)

    def falls_due_by(self, today: date) -> bool:
        """Whether the case has a deadline the scheduler must look at (`Case` decides)."""
        follow_up = self.status == ACTIVE and not self.lost_to_follow_up
        if follow_up and self.next_follow_up_due < today:
            return True
        return self.status != CLOSED and add_years(self.opened_on, self.years_checked + 1) <= today


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
            opened_on=e.opened_on,
            transferred_from_case_id=e.transferred_from_case_id,
        )

    @apply.register
    def _(self, e: Case.ManagerAssigned) -> None:
        self.cases[e.originator_id].case_manager_id = e.case_manager_id

    @apply.register
    def _(self, e: Case.VisitRecorded) -> None:
        case = self.cases[e.originator_id]
        case.risk_level = e.risk_level
        case.next_follow_up_due = e.next_follow_up_due
        case.consecutive_misses = 0
        case.lost_to_follow_up = False
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

    @apply.register
    def _(self, e: Case.FollowUpMissed) -> None:
        case = self.cases[e.originator_id]
        case.next_follow_up_due = e.rescheduled_to
        case.consecutive_misses = e.consecutive_misses

    @apply.register
    def _(self, e: Case.LostToFollowUp) -> None:
        self.cases[e.originator_id].lost_to_follow_up = True

    @apply.register
    def _(self, e: Case.YearChecked) -> None:
        self.cases[e.originator_id].years_checked += 1

    @apply.register
    def _(self, e: Case.ReferralRequested) -> None:
        self.cases[e.originator_id].open_referral_id = e.referral_id

    @apply.register
    def _(self, e: Case.ReferralWithdrawn | Case.ReferralEnded) -> None:
        self.cases[e.originator_id].open_referral_id = None

    @apply.register
    def _(self, e: Case.Admitted) -> None:
        self.cases[e.originator_id].status = IN_HOSPITAL

    @apply.register
    def _(self, e: Case.ResumedAfterDischarge) -> None:
        case = self.cases[e.originator_id]
        case.status = ACTIVE
        case.next_follow_up_due = e.due_on
        case.consecutive_misses = 0
        case.lost_to_follow_up = False
        case.open_referral_id = None

    @apply.register
    def _(self, e: Case.EmergencyRecorded) -> None:
        self.cases[e.originator_id].emergencies += 1

    @apply.register
    def _(self, e: Case.Closed) -> None:
        case = self.cases[e.originator_id]
        case.status = CLOSED
        case.closed_reason = e.reason

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

    def falling_due(self, today: date) -> list[UUID]:
        """Called from the scheduler's thread: `list()` copies the cases in one step."""
        return [c.case_id for c in list(self.cases.values()) if c.falls_due_by(today)]
