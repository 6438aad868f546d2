"""Which of a patient's cases is the active one; the contact details sealed to each case."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.case_file import CASE_NAMESPACE


class PatientCases(Aggregate):
    """Which case of a patient is active: never two, and never none once the patient is routed.

    Every change of a patient's active case goes through this one aggregate, so two
    concurrent transfers cannot both succeed (optimistic concurrency).
    """

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(CASE_NAMESPACE, f"patient/{patient_id}")

    @event("Started")
    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self.active_case_id: UUID | None = None
        self.case_ids: list[UUID] = []
        self.sealed_contacts: dict[UUID, str] = {}
        """Per case: the patient's contact details as intake sealed them to the case's key."""
        self.erased = False

    @event("ActiveCaseChanged")
    def activate(self, case_id: UUID) -> None:
        self.active_case_id = case_id
        self.case_ids.append(case_id)

    @event("ContactDetailsReceived")
    def receive_contact_details(self, case_id: UUID, sealed: str) -> None:
        """Kept sealed: opened on each read with the case's private key, never stored open."""
        self.sealed_contacts[case_id] = sealed

    @event("PersonalDataErased")
    def erase_personal_data(self, legal_basis: str, reference: str) -> None:
        """The keys of every case were destroyed; no case of the patient gets a key again."""
        self.erased = True
