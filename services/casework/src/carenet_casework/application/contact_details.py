"""Casework's use case "contact details": kept sealed as intake shares them, erased on request.

The keys are `CaseContactKeys`' (`carenet_casework.contact_details`), a collaborator the
application holds; this module loads and records the patient's cases around it.
"""

from __future__ import annotations

from uuid import UUID

import structlog

from carenet_casework.application.base import CaseworkBase
from carenet_casework.commands import EraseContactKeys, ReceiveContactDetails
from carenet_casework.contact_details import Contact
from carenet_casework.domain import Case, PatientCases
from carenet_casework.domain.errors import Erased, NoCase, NotYetShared
from carenet_kit.outbox import Cause

log = structlog.get_logger()


class ContactDetailsOfCases(CaseworkBase):
    """The contact details intake seals to each case, and their erasure."""

    def receive_contact_details(self, command: ReceiveContactDetails, cause: Cause) -> None:
        patient: PatientCases | None = self.find(PatientCases.create_id(command.patient_id))
        case_id = command.case_id
        if patient is None or case_id not in patient.case_ids:
            raise NoCase(f"contact details for case {case_id}, which is not here")
        if patient.erased or case_id in patient.sealed_contacts:
            log.info("contact details not kept", reason="erased or already kept")
            return
        patient.receive_contact_details(case_id, command.sealed)
        self.commit(patient, cause=cause)

    def erase_contact_keys(self, command: EraseContactKeys, cause: Cause) -> None:
        """Destroy the key of every case of the patient; later cases get none."""
        patient = self._patient_cases(command.patient_id)
        self.contact_keys.destroy(patient.case_ids)
        if not patient.erased:
            patient.erase_personal_data(command.legal_basis, command.reference)
            self.commit(patient, cause=cause)
        log.info("case contact keys destroyed", cases=len(patient.case_ids))

    def contact(self, case_id: UUID) -> Contact:
        """The contact details, opened now with the case's key."""
        case: Case | None = self.find(case_id)
        if not isinstance(case, Case):
            raise NoCase("no such case")
        patient: PatientCases = self.repository.get(PatientCases.create_id(case.patient_id))
        if patient.erased:
            raise Erased("the patient's personal data was erased")
        sealed = patient.sealed_contacts.get(case_id)
        if sealed is None:
            raise NotYetShared("the hospital has not shared the contact details yet")
        return self.contact_keys.open(case.patient_id, case_id, sealed)
