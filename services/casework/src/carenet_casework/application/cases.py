"""Casework's use case "cases and visits": a patient arrives at a center; what is recorded then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from carenet_casework.application.base import CaseworkBase
from carenet_casework.domain import Case, CaseConflict, Caseload, Emergency, PatientCases, Visit
from carenet_contracts import Envelope, VisitClassification
from carenet_contracts.routing import PatientRouted, PatientTransferred
from carenet_kit.outbox import Cause


@dataclass(frozen=True)
class Diagnosis:
    """What a case knows of the diagnosis, carried from route to case and case to case."""

    hospital_id: str
    category: str
    risk_level: int


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

    def open_case(self, routed: Envelope[PatientRouted], cause: Cause) -> None:
        """Open the case at the center and give it the social worker with the fewest cases."""
        data = routed.data
        self._move_to_center(
            routed.patient_id,
            data.center_id,
            data.first_visit_due,
            data.social_worker_ids,
            close_reason=f"routed to {data.center_id}",
            cause=cause,
            diagnosis=Diagnosis(data.diagnosing_hospital_id, data.category.value, data.risk_level),
        )

    def transfer(self, transferred: Envelope[PatientTransferred], cause: Cause) -> None:
        """Close the case at the old center and open one at the new, in one transaction."""
        data = transferred.data
        self._move_to_center(
            transferred.patient_id,
            data.to_center_id,
            data.first_visit_due,
            data.social_worker_ids,
            close_reason=f"moved on {data.moved_on}: transferred to {data.to_center_id}",
            cause=cause,
        )

    def _move_to_center(
        self,
        patient_id: UUID,
        center_id: str,
        first_visit_due: date,
        social_workers: list[str],
        close_reason: str,
        cause: Cause,
        diagnosis: Diagnosis | None = None,
    ) -> None:
        patient = self._patient_cases(patient_id)
        previous = self._active_case(patient)
        if previous is not None and previous.center_id == center_id:
            return  # routed where the patient already is
        if diagnosis is None and previous is not None:
            diagnosis = Diagnosis(
                previous.diagnosing_hospital_id, previous.category, previous.risk_level
            )
        diagnosis = diagnosis or Diagnosis(hospital_id="", category="", risk_level=0)
        ordinal = len(patient.case_ids) + 1
        case_id = Case.create_id(patient_id, center_id, ordinal)
        contact_key, new_keys = self.new_contact_key(patient, case_id)
        case = Case(
            patient_id=patient_id,
            center_id=center_id,
            diagnosing_hospital_id=diagnosis.hospital_id,
            category=diagnosis.category,
            risk_level=diagnosis.risk_level,
            first_visit_due=first_visit_due,
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
        changed: list[Case | Caseload | PatientCases] = []  # the old case closes first
        if previous is not None:
            previous.close(close_reason, continued_by_case_id=case.id)
            changed.append(previous)
            if previous.case_manager_id is not None:
                old_caseload = self._caseload(previous.center_id, [])
                old_caseload.case_closed(previous.id, previous.case_manager_id)
                changed.append(old_caseload)
        patient.activate(case.id)
        caseload = self._caseload(center_id, social_workers or self.rosters.get(center_id, []))
        manager = caseload.choose_case_manager(case.id)
        if manager is not None:
            case.assign_manager(manager, reason="fewest active cases at the center")
        self.commit(*changed, case, patient, caseload, cause=cause, new_keys=new_keys)

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
