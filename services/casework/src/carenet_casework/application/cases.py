"""Casework's use case "cases and visits": a patient arrives at a center; what is recorded then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from carenet_casework.application.base import CaseworkBase
from carenet_casework.commands import OpenCase, TransferCase
from carenet_casework.contact_details import NewKeys
from carenet_casework.domain import Case, CaseConflict, Caseload, Emergency, PatientCases, Visit
from carenet_contracts import VisitClassification
from carenet_kit.outbox import Cause


@dataclass(frozen=True)
class CaseDiagnosis:
    """What a case knows of the diagnosis, carried from route to case and case to case."""

    hospital_id: str
    category: str
    risk_level: int


NO_DIAGNOSIS = CaseDiagnosis(hospital_id="", category="", risk_level=0)
"""A transfer with no case before it to carry the diagnosis from."""

ASSIGNED_BY_CASELOAD = "fewest active cases at the center"


@dataclass(frozen=True)
class Arrival:
    """Where the patient's case moves to, whether routed there or transferred."""

    center_id: str
    first_visit_due: date
    social_worker_ids: tuple[str, ...]
    close_reason: str
    """Why the case at the old center, if any, closes."""


@dataclass(frozen=True)
class VisitOutcome:
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str
    referral_id: UUID | None


@dataclass(frozen=True)
class EmergencyOutcome:
    recorded_late: bool
    referral_id: UUID | None
    rule_set_version: str


class CasesAndVisits(CaseworkBase):
    """Cases opened and moved with the patient; visits and emergencies recorded on them."""

    # -- a patient arrives at a center -----------------------------------------------------------

    def open_case(self, command: OpenCase, cause: Cause) -> None:
        """Open the case at the center and give it the social worker with the fewest cases."""
        self._move_to_center(
            command.patient_id,
            Arrival(
                command.center_id,
                command.first_visit_due,
                command.social_worker_ids,
                close_reason=f"routed to {command.center_id}",
            ),
            CaseDiagnosis(command.diagnosing_hospital_id, command.category, command.risk_level),
            cause,
        )

    def transfer(self, command: TransferCase, cause: Cause) -> None:
        """Close the case at the old center and open one at the new, in one transaction."""
        self._move_to_center(
            command.patient_id,
            Arrival(
                command.to_center_id,
                command.first_visit_due,
                command.social_worker_ids,
                close_reason=f"moved on {command.moved_on}: transferred to {command.to_center_id}",
            ),
            None,
            cause,
        )

    def _move_to_center(
        self,
        patient_id: UUID,
        arrival: Arrival,
        diagnosis: CaseDiagnosis | None,
        cause: Cause,
    ) -> None:
        """The patient's case moves to `arrival`'s center, in one transaction of up to six
        aggregates: the case closed there, its center's caseload, the case opened here, the
        patient's cases, this center's caseload, the care team.

        One transaction because the guarantees hold only together: the patient has one active
        case (the old closes as the new activates), a caseload counts exactly the cases its
        social workers manage (chosen under optimistic concurrency, so two cases opened at once
        cannot both go to the same least-loaded worker), the team follows its case, and the
        message that asked for all this is tracked once with all of it.
        """
        patient = self._patient_cases(patient_id)
        previous = self._active_case(patient)
        if previous is not None and previous.center_id == arrival.center_id:
            return  # routed where the patient already is
        case, new_keys = self._new_case(patient, previous, arrival, diagnosis)
        closed = [] if previous is None else self._close_previous(previous, case.id, arrival)
        patient.activate(case.id)
        caseload = self._assign_case_manager(case, arrival)
        team = self._team_following(case, ASSIGNED_BY_CASELOAD)
        self.commit(*closed, case, patient, caseload, team, cause=cause, new_keys=new_keys)

    def _new_case(
        self,
        patient: PatientCases,
        previous: Case | None,
        arrival: Arrival,
        diagnosis: CaseDiagnosis | None,
    ) -> tuple[Case, NewKeys]:
        """The case at the new center, continuing `previous`; and the key for its contacts."""
        if diagnosis is None and previous is not None:
            diagnosis = CaseDiagnosis(
                previous.diagnosing_hospital_id, previous.category, previous.risk_level
            )
        diagnosis = diagnosis or NO_DIAGNOSIS
        ordinal = len(patient.case_ids) + 1
        case_id = Case.create_id(patient.patient_id, arrival.center_id, ordinal)
        contact_key, new_keys = (None, ()) if patient.erased else self.contact_keys.new_key(case_id)
        case = Case(
            patient_id=patient.patient_id,
            center_id=arrival.center_id,
            diagnosing_hospital_id=diagnosis.hospital_id,
            category=diagnosis.category,
            risk_level=diagnosis.risk_level,
            first_visit_due=arrival.first_visit_due,
            opened_on=self.rules.local_date(self.clock.now()),
            ordinal=ordinal,
            transferred_from_case_id=previous.id if previous else None,
            last_classification=(
                previous.last_classification.value
                if previous and previous.last_classification
                else None
            ),
            contact_key=contact_key,
        )
        return case, new_keys

    def _close_previous(
        self, previous: Case, continued_by: UUID, arrival: Arrival
    ) -> list[Case | Caseload]:
        """The case at the old center closes; its case manager carries one case fewer."""
        previous.close(arrival.close_reason, continued_by_case_id=continued_by)
        if previous.case_manager_id is None:
            return [previous]
        old_caseload = self._caseload(previous.center_id, [])
        old_caseload.case_closed(previous.id, previous.case_manager_id)
        return [previous, old_caseload]

    def _assign_case_manager(self, case: Case, arrival: Arrival) -> Caseload:
        """The center's social worker with the fewest active cases manages the new case."""
        caseload = self._caseload(arrival.center_id, list(arrival.social_worker_ids))
        manager = caseload.choose_case_manager(case.id)
        if manager is not None:
            case.assign_manager(manager, reason=ASSIGNED_BY_CASELOAD)
        return caseload

    # -- the case manager's work -------------------------------------------------------------------

    def record_visit(self, case_id: UUID, visit: Visit, cause: Cause) -> VisitOutcome:
        case: Case = self.repository.get(case_id)
        self.dates.visit(visit.visited_on, case.opened_on, self.clock.now())
        referral_before = case.open_referral_id
        classification = case.record_visit(visit, self.rules)
        self.commit(case, cause=cause)
        referral = case.open_referral_id if case.open_referral_id != referral_before else None
        return VisitOutcome(classification, case.next_due, self.rules.version, referral)

    def record_emergency(
        self, case_id: UUID, emergency: Emergency, cause: Cause
    ) -> EmergencyOutcome:
        case: Case = self.repository.get(case_id)
        self.dates.emergency(emergency.occurred_at, case.opened_on, self.clock.now())
        if emergency.emergency_id in case.emergencies:
            raise CaseConflict("this emergency is already recorded")
        referral_before = case.open_referral_id
        late = case.record_emergency(emergency, self.clock.now(), self.rules)
        self.commit(case, cause=cause)
        referral = case.open_referral_id if case.open_referral_id != referral_before else None
        return EmergencyOutcome(late, referral, self.rules.version)

    def active_case_id(self, patient_id: UUID) -> UUID | None:
        return self._patient_cases(patient_id).active_case_id
