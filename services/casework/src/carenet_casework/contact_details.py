"""The patient's contact details at a case's center: a key per case, sealed details, erasure.

Each case opened gets an X25519 key pair; its private key stays in casework's keystore
(wrapped by the master key), its public key goes out in `CaseOpened.contact_key`. Intake
answers with `ContactDetailsShared`: name, phone and address sealed to that key. Casework
keeps the sealed text as it came and opens it on each read, never storing it open. When intake
announces `PersonalDataErased`, the keys of all the patient's cases are destroyed: the sealed
copies (here, on the topic, in the audit index) can no longer be opened by anyone.

`CaseContactKeys` is the part that holds the keys; the application holds one and calls it
from its use case `application.contact_details`, which loads and records the aggregates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from carenet_casework.domain.errors import Erased
from carenet_kit.keystore import KeyDestroyed, KeyStore, NewKey
from carenet_kit.sealing import (
    contact_context,
    from_text,
    open_sealed,
    private_key,
    public_key_text,
)

CONTACT_KEY_PURPOSE = "case-contact"

NewKeys = tuple[NewKey, ...]


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    address: str


class CaseContactKeys:
    """The key pair of each case: made when the case opens, used to open, destroyed on erasure."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store

    def new_key(self, case_id: UUID) -> tuple[str | None, NewKeys]:
        """The public key of a new case (None once the patient's keys are destroyed), and its
        private key, to be recorded with the case's events (`KeyStore.make`)."""
        try:
            made = self.store.make(case_id)
        except KeyDestroyed:
            return None, ()
        return public_key_text(private_key(made.key)), made.new_keys

    def destroy(self, case_ids: Iterable[UUID]) -> None:
        for case_id in case_ids:
            self.store.destroy(case_id)

    def holds_key(self, case_id: UUID) -> bool:
        return self.store.get(case_id) is not None

    def open(self, patient_id: UUID, case_id: UUID, sealed: str) -> Contact:
        """The contact details sealed to the case, opened now with its key."""
        secret = self.store.get(case_id)
        if secret is None:  # destroyed, the erasure not yet recorded
            raise Erased("the patient's personal data was erased")
        opened = json.loads(
            open_sealed(
                from_text(sealed), private_key(secret), contact_context(patient_id, case_id)
            )
        )
        return Contact(name=opened["name"], phone=opened["phone"], address=opened["address"])
