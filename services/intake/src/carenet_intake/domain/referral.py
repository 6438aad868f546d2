"""The hospital's side of a two-way referral: a community referral on the hospital's worklist.

Routing issues and may cancel a referral; the addressed hospital accepts or declines it and
admits the patient. Once the patient is admitted, a cancellation no longer undoes anything.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_intake.domain.errors import StateConflict, WrongHospital

REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:intake:referral")


class ReferralStatus(StrEnum):
    ISSUED = "issued"
    """On the worklist, awaiting the hospital's answer."""
    ACCEPTED = "accepted"
    """On the worklist: the hospital expects the patient."""
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ADMITTED = "admitted"


ON_WORKLIST = frozenset({ReferralStatus.ISSUED, ReferralStatus.ACCEPTED})


class DeclineReason(StrEnum):
    """Why a hospital declines; a code, so no free text (and no personal data) is published."""

    NO_BED_AVAILABLE = "no_bed_available"
    NOT_CLINICALLY_INDICATED = "not_clinically_indicated"
    OUTSIDE_SPECIALTY = "outside_specialty"
    PATIENT_UNREACHABLE = "patient_unreachable"
    OTHER = "other"


class Referral(Aggregate):
    """A referral as the addressed hospital sees it, identified by routing's referral id."""

    @staticmethod
    def create_id(referral_id: UUID) -> UUID:
        return uuid5(REFERRAL_NAMESPACE, str(referral_id))

    @event("Received")
    def __init__(
        self,
        referral_id: UUID,
        patient_id: UUID,
        case_id: UUID,
        from_center_id: str,
        hospital_id: str,
        reason: str,
        risk_level: int,
        accept_by: datetime,
    ) -> None:
        self.referral_id = referral_id
        self.patient_id = patient_id
        self.hospital_id = hospital_id
        self.status = ReferralStatus.ISSUED
        self.admission_id: UUID | None = None

    def accept(self, hospital_id: str, accepted_at: datetime) -> None:
        self._require(hospital_id, ReferralStatus.ISSUED, action="accepted")
        self._accept(**self._about(), accepted_at=accepted_at)

    def decline(
        self, hospital_id: str, reason: DeclineReason, note: str | None, declined_at: datetime
    ) -> None:
        self._require(hospital_id, *ON_WORKLIST, action="declined")
        self._decline(**self._about(), reason=reason.value, note=note, declined_at=declined_at)

    def admit(self, hospital_id: str, admission_id: UUID, accepted_at: datetime) -> None:
        """Admitting a referral not yet accepted accepts it too (the patient is here)."""
        self._require(hospital_id, *ON_WORKLIST, action="admitted")
        if self.status is ReferralStatus.ISSUED:
            self._accept(**self._about(), accepted_at=accepted_at)
        self._admit(admission_id=admission_id)

    def cancel(self, hospital_id: str, reason: str) -> str | None:
        """Take it off the worklist; returns why nothing changed, if nothing did."""
        if hospital_id != self.hospital_id:
            raise WrongHospital(
                f"the cancellation names hospital {hospital_id}, the referral went to "
                f"{self.hospital_id}"
            )
        if self.status in ON_WORKLIST:
            self._cancel(reason=reason)
            return None
        if self.status is ReferralStatus.ADMITTED:
            why = "the patient was already admitted on this referral; discharge ends the stay"
            self._cancellation_ignored(reason=reason, why=why)
            return why
        return f"the referral is already {self.status.value}"

    def _about(self) -> dict[str, Any]:
        """What the published events about this referral say it concerns."""
        return {
            "referral_id": self.referral_id,
            "patient_id": self.patient_id,
            "hospital_id": self.hospital_id,
        }

    def _require(self, hospital_id: str, *allowed: ReferralStatus, action: str) -> None:
        if hospital_id != self.hospital_id:
            raise WrongHospital("the referral is addressed to another hospital")
        if self.status not in allowed:
            raise StateConflict(f"the referral is {self.status.value}; it cannot be {action}")

    class Accepted(Aggregate.Event):
        referral_id: UUID
        patient_id: UUID
        hospital_id: str
        accepted_at: datetime

    @event(Accepted)
    def _accept(
        self, referral_id: UUID, patient_id: UUID, hospital_id: str, accepted_at: datetime
    ) -> None:
        self.status = ReferralStatus.ACCEPTED

    class Declined(Aggregate.Event):
        referral_id: UUID
        patient_id: UUID
        hospital_id: str
        reason: str
        note: str | None
        """The clinician's words: kept in intake, never published."""
        declined_at: datetime

    @event(Declined)
    def _decline(
        self,
        referral_id: UUID,
        patient_id: UUID,
        hospital_id: str,
        reason: str,
        note: str | None,
        declined_at: datetime,
    ) -> None:
        self.status = ReferralStatus.DECLINED

    @event("Cancelled")
    def _cancel(self, reason: str) -> None:
        self.status = ReferralStatus.CANCELLED

    @event("CancellationIgnored")
    def _cancellation_ignored(self, reason: str, why: str) -> None:
        """Kept so the audit trail shows the cancellation arrived and why it changed nothing."""

    @event("Admitted")
    def _admit(self, admission_id: UUID) -> None:
        self.status = ReferralStatus.ADMITTED
        self.admission_id = admission_id
