"""The patient's contact details at a case's center: a key per case, sealed details, erasure.

Each case opened gets an X25519 key pair; its private key stays in casework's keystore
(wrapped by the master key), its public key goes out in `CaseOpened.contact_key`. Intake
answers with `ContactDetailsShared`: name, phone and address sealed to that key. Casework
keeps the sealed text as it came and opens it on each read, never storing it open. When intake
announces `PersonalDataErased`, the keys of all the patient's cases are destroyed: the sealed
copies (here, on the topic, in the audit index) can no longer be opened by anyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

import structlog

from carenet_casework.domain import Case, PatientCases
from carenet_casework.domain.errors import Erased, NoCase, NotYetShared
from carenet_contracts import Envelope
from carenet_contracts.intake import ContactDetailsShared, PersonalDataErased
from carenet_kit.application import ServiceApplication
from carenet_kit.keystore import KeyDestroyed, KeyStore, NewKey
from carenet_kit.outbox import Cause
from carenet_kit.sealing import from_text, open_sealed, private_key, public_key_text

log = structlog.get_logger()

CONTACT_KEY_PURPOSE = "case-contact"

NewKeys = tuple[NewKey, ...]


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    address: str


def contact_context(patient_id: UUID, case_id: UUID) -> bytes:
    """The HPKE info intake seals with (`ContactDetailsShared`): for this case only."""
    return f"carenet/contact-details/{patient_id}/{case_id}".encode()


class ContactDetails(ServiceApplication):
    """Casework's part in moving contact details: mixed into `CaseworkApplication`."""

    contact_key_purpose: ClassVar[str] = CONTACT_KEY_PURPOSE
    contact_keys: KeyStore

    def new_contact_key(self, patient: PatientCases, case_id: UUID) -> tuple[str | None, NewKeys]:
        """The public key of a new case (None once the patient's personal data is erased),
        and its private key, to be recorded with the case's events (`KeyStore.make`)."""
        if patient.erased:
            return None, ()
        try:
            made = self.contact_keys.make(case_id)
        except KeyDestroyed:
            return None, ()
        return public_key_text(private_key(made.key)), made.new_keys

    def receive_contact_details(self, shared: Envelope[ContactDetailsShared], cause: Cause) -> None:
        patient: PatientCases | None = self.find(PatientCases.create_id(shared.patient_id))
        case_id = shared.data.case_id
        if patient is None or case_id not in patient.case_ids:
            raise NoCase(f"contact details for case {case_id}, which is not here")
        if patient.erased or case_id in patient.sealed_contacts:
            log.info("contact details not kept", reason="erased or already kept")
            return
        patient.receive_contact_details(case_id, shared.data.sealed)
        self.commit(patient, cause=cause)

    def erase_contact_keys(self, erased: Envelope[PersonalDataErased], cause: Cause) -> None:
        """Destroy the key of every case of the patient; later cases get none."""
        patient: PatientCases = self.find(
            PatientCases.create_id(erased.patient_id)
        ) or PatientCases(erased.patient_id)
        for case_id in patient.case_ids:
            self.contact_keys.destroy(case_id)
        if not patient.erased:
            patient.erase_personal_data(erased.data.legal_basis.value, erased.data.reference)
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
        secret = self.contact_keys.get(case_id)
        if secret is None:  # destroyed, the erasure not yet recorded
            raise Erased("the patient's personal data was erased")
        opened = json.loads(
            open_sealed(
                from_text(sealed), private_key(secret), contact_context(case.patient_id, case_id)
            )
        )
        return Contact(name=opened["name"], phone=opened["phone"], address=opened["address"])
