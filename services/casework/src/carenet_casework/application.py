"""Casework's service layer: open cases for routed patients, assign case managers, record visits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

from carenet_casework import rules
from carenet_casework.domain import Case, Caseload, Visit
from carenet_contracts import Envelope, VisitClassification
from carenet_contracts.routing import PatientRouted
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.inbound import CommandConflict
from carenet_kit.outbox import Cause


@dataclass(frozen=True)
class VisitOutcome:
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str


class CaseworkApplication(ServiceApplication):
    producer: ClassVar = "casework"

    def __init__(
        self, env: dict[str, str], outbound: OutboundMapper, rosters: dict[str, list[str]]
    ) -> None:
        super().__init__(env, outbound)
        self.rosters = rosters
        """Social workers per community health center, from reference data."""

    def open_case(self, routed: Envelope[PatientRouted], cause: Cause) -> None:
        """Open the case at the center and give it the social worker with the fewest cases."""
        data = routed.data
        case_id = Case.create_id(routed.patient_id, data.center_id)
        if case_id in self.repository:
            return
        case = Case(
            patient_id=routed.patient_id,
            center_id=data.center_id,
            diagnosing_hospital_id=data.diagnosing_hospital_id,
            category=data.category.value,
            risk_level=data.risk_level,
            first_visit_due=data.first_visit_due,
        )
        caseload = self._caseload(data.center_id)
        manager = caseload.choose_case_manager(case.id)
        if manager is not None:
            case.assign_manager(manager, reason="fewest active cases at the center")
        self.commit(case, caseload, cause=cause)

    def record_visit(self, case_id: UUID, visit: Visit, cause: Cause) -> VisitOutcome:
        case: Case = self.repository.get(case_id)
        if visit.visit_id in case.visits:
            raise CommandConflict("this visit is already recorded")
        try:
            classification = case.record_visit(visit)
        except ValueError as error:
            raise CommandConflict(str(error)) from None
        self.commit(case, cause=cause)
        return VisitOutcome(classification, case.next_due, rules.RULE_SET.version)

    def _caseload(self, center_id: str) -> Caseload:
        caseload_id = Caseload.create_id(center_id)
        if caseload_id in self.repository:
            caseload: Caseload = self.repository.get(caseload_id)
            return caseload
        return Caseload(center_id, self.rosters.get(center_id, []))
