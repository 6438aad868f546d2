"""Casework's service layer: cases for routed patients, visits, deadlines, referrals, transfers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

import structlog

from carenet_casework.domain import Case, CaseConflict, Caseload, Emergency, PatientCases, Visit
from carenet_casework.rules import RuleSet
from carenet_contracts import Envelope, VisitClassification
from carenet_contracts.routing import PatientRouted, PatientTransferred
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.inbound import CommandConflict
from carenet_kit.outbox import Cause
from carenet_kit.scheduler import act_once_each

log = structlog.get_logger()


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


class CaseworkApplication(ServiceApplication):
    producer: ClassVar = "casework"
    snapshotting_intervals: ClassVar = {Caseload: 50}
    """A center's caseload takes an event per case opened: start from a recent snapshot."""

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        rules: RuleSet,
        clock: Clock | None = None,
        rosters: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.rules = rules
        self.rosters = rosters or {}
        """Social workers per center from reference data, for routes that carry none."""

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
        case = Case(
            patient_id=patient_id,
            center_id=center_id,
            diagnosing_hospital_id=diagnosis.hospital_id,
            category=diagnosis.category,
            risk_level=diagnosis.risk_level,
            first_visit_due=first_visit_due,
            opened_on=self.rules.local_date(self.clock.now()),
            ordinal=len(patient.case_ids) + 1,
            transferred_from_case_id=previous.id if previous else None,
            last_classification=(
                previous.last_classification.value
                if previous and previous.last_classification
                else None
            ),
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
        self.commit(*changed, case, patient, caseload, cause=cause)

    # -- the case manager's work -------------------------------------------------------------------

    def record_visit(self, case_id: UUID, visit: Visit, cause: Cause) -> VisitOutcome:
        case: Case = self.repository.get(case_id)
        referral_before = case.open_referral_id
        with _as_conflict():
            classification = case.record_visit(visit, self.rules)
        self.commit(case, cause=cause)
        referral = case.open_referral_id if case.open_referral_id != referral_before else None
        return VisitOutcome(classification, case.next_due, self.rules.version, referral)

    def record_emergency(
        self, case_id: UUID, emergency: Emergency, cause: Cause
    ) -> EmergencyOutcome:
        case: Case = self.repository.get(case_id)
        if emergency.emergency_id in case.emergencies:
            raise CommandConflict("this emergency is already recorded")
        referral_before = case.open_referral_id
        with _as_conflict():
            late = case.record_emergency(emergency, self.clock.now(), self.rules)
        self.commit(case, cause=cause)
        referral = case.open_referral_id if case.open_referral_id != referral_before else None
        return EmergencyOutcome(late, referral, self.rules.version)

    def withdraw_referral(
        self, case_id: UUID, referral_id: UUID, reason: str, cause: Cause
    ) -> None:
        case: Case = self.repository.get(case_id)
        with _as_conflict():
            case.withdraw_referral(referral_id, reason)
        self.commit(case, cause=cause)

    # -- what hospitals and routing report -------------------------------------------------------

    def patient_admitted(
        self,
        patient_id: UUID,
        admission_id: UUID,
        hospital_id: str,
        admitted_on: date,
        cause: Cause,
    ) -> None:
        case = self._active_case_of(patient_id)
        if case is not None and case.admitted(admission_id, hospital_id, admitted_on):
            self.commit(case, cause=cause)
        else:
            log.info(
                "event changes nothing here",
                reason="admission of a patient without an active case at home",
            )

    def patient_discharged(
        self, patient_id: UUID, admission_id: UUID, discharged_on: date, cause: Cause
    ) -> None:
        case = self._active_case_of(patient_id)
        if case is not None and case.discharged(admission_id, discharged_on, self.rules):
            self.commit(case, cause=cause)
        else:
            log.info(
                "event changes nothing here", reason="discharge of a patient without an active case"
            )

    def referral_ended(
        self, patient_id: UUID, referral_id: UUID, outcome: str, cause: Cause
    ) -> None:
        case = self._active_case_of(patient_id)
        if case is not None and case.referral_ended(referral_id, outcome):
            self.commit(case, cause=cause)
        else:
            log.info(
                "event changes nothing here", reason="end of a referral the case does not hold open"
            )

    # -- time ------------------------------------------------------------------------------------

    def handle_deadlines(self, case_ids: Iterable[UUID], now: datetime) -> int:
        """Record the missed follow-ups and yearly checks of these cases, each once."""
        today = self.rules.local_date(now)

        def handle(case: Case) -> bool:
            return case.handle_deadlines(today, self.rules)

        return act_once_each(self, case_ids, handle)

    def active_case_id(self, patient_id: UUID) -> UUID | None:
        return self._patient_cases(patient_id).active_case_id

    # -- helpers ---------------------------------------------------------------------------------

    def _patient_cases(self, patient_id: UUID) -> PatientCases:
        patient: PatientCases | None = self.find(PatientCases.create_id(patient_id))
        return patient or PatientCases(patient_id)

    def _active_case(self, patient: PatientCases) -> Case | None:
        if patient.active_case_id is None:
            return None
        case: Case = self.repository.get(patient.active_case_id)
        return case

    def _active_case_of(self, patient_id: UUID) -> Case | None:
        return self._active_case(self._patient_cases(patient_id))

    def _caseload(self, center_id: str, social_workers: list[str]) -> Caseload:
        caseload: Caseload | None = self.find(Caseload.create_id(center_id))
        if caseload is None:
            return Caseload(center_id, social_workers)
        if social_workers:
            caseload.update_roster(social_workers)
        return caseload


@contextmanager
def _as_conflict() -> Iterator[None]:
    """The case's refusal becomes the caller's 409."""
    try:
        yield
    except CaseConflict as error:
        raise CommandConflict(str(error)) from None
