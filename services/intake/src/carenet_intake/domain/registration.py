"""Registrations that answer alike whether the national ID was registered before or not.

A hospital registering a national ID gets a handle. For an ID new to the network the handle is
the new patient's id; for an ID registered before it is a `JoiningRegistration`, which gives its
hospital nothing but the right to record a diagnosis through it: that diagnosis joins the one
record of the patient. Either way the hospital asking again gets the same handle back.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event


class RegistrationClaim(Aggregate):
    """Claims a national ID for one hospital's registration, so that a retry answers the same
    handle. Its id is derived from a keyed hash of the hospital and the ID, not the ID itself."""

    @staticmethod
    def create_id(registration_digest: str) -> UUID:
        return UUID(registration_digest[:32])

    @event("Claimed")
    def __init__(self, registration_digest: str, registration_id: UUID) -> None:
        self.registration_id = registration_id


class JoiningRegistration(Aggregate):
    """A hospital's registration of a national ID registered before, pending its diagnosis.

    What the hospital entered is kept encrypted under this registration's own data key, as
    every registration's, bound to its id; erasing the patient destroys that key too (the
    identity claim lists the registrations of the ID). The diagnosis through it is checked
    against this entry, never against the record of another hospital.
    """

    @event("Registered")
    def __init__(
        self,
        id: UUID,  # chosen by the application: it is the handle the hospital was given
        hospital_id: str,
        patient_id: UUID,
        personal_data: str,
    ) -> None:
        self.hospital_id = hospital_id
        self.patient_id = patient_id
        self.personal_data = personal_data
        self.joined_by: UUID | None = None
        """The diagnosis that joined the patient's record; None while pending."""

    @event("Joined")
    def join(self, diagnosis_id: UUID) -> None:
        self.joined_by = diagnosis_id
