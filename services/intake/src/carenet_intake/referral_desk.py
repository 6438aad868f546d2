"""The hospital's side of two-way referral: the worklist routing fills, accept, decline, admit
and discharge."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import AggregateNotFoundError

from carenet_intake.commands import CancelReferral, ReceiveReferral
from carenet_intake.domain import DeclineReason, Inpatient, Patient, Referral, Stay
from carenet_intake.hospital_tier import HospitalTier
from carenet_kit.fields import copy_of
from carenet_kit.outbox import Cause
from carenet_kit.refusals import Refused

log = structlog.get_logger()


class ReferralDesk(HospitalTier):
    def receive_referral(self, command: ReceiveReferral, cause: Cause) -> None:
        """Put a community referral on the addressed hospital's worklist."""
        self.certified(command.hospital_id)
        referral_id = Referral.create_id(command.referral_id)
        if referral_id in self.repository:
            log.info("referral already on the worklist", referral_id=str(command.referral_id))
            self.commit(cause=cause)
            return
        self.commit(copy_of(Referral, command), cause=cause)

    def cancel_referral(self, command: CancelReferral, cause: Cause) -> None:
        """Take it off the worklist, unless the patient was admitted on it (then log why)."""
        try:
            referral: Referral = self.repository.get(Referral.create_id(command.referral_id))
        except AggregateNotFoundError:
            raise Refused(f"referral {command.referral_id} was never received here") from None
        unchanged = referral.cancel(command.hospital_id, command.reason)
        if unchanged is not None:
            log.warning(
                "referral cancellation changed nothing",
                referral_id=str(command.referral_id),
                why=unchanged,
            )
        self.commit(referral, cause=cause)

    def accept_referral(self, referral_id: UUID, hospital_id: str, cause: Cause) -> None:
        referral = self._referral(referral_id)
        referral.accept(hospital_id, accepted_at=self.clock.now())
        self.commit(referral, cause=cause)

    def decline_referral(
        self,
        referral_id: UUID,
        hospital_id: str,
        reason: DeclineReason,
        note: str | None,
        cause: Cause,
    ) -> None:
        referral = self._referral(referral_id)
        referral.decline(hospital_id, reason, note, declined_at=self.clock.now())
        self.commit(referral, cause=cause)

    def admit(
        self,
        patient_id: UUID,
        hospital_id: str,
        admitted_on: date | None,
        referral_id: UUID | None,
        cause: Cause,
    ) -> UUID:
        """Admit on a referral (accepting it if not yet accepted) or directly, without one."""
        self.certified(hospital_id)
        registered = self.find(patient_id)
        admitted_on = admitted_on or self.today()
        self.plausible("admitted_on", admitted_on, self.date_of_birth(registered))
        referral: Referral | None = None
        inpatient = self._inpatient(patient_id)
        if referral_id is not None:
            referral = self._referral(referral_id)
            if referral.patient_id != patient_id:
                raise Refused("the referral is for another patient")
        elif inpatient is None and not isinstance(registered, Patient):
            raise AggregateNotFoundError(patient_id)
        inpatient = inpatient or Inpatient(patient_id)
        admission_id = uuid4()
        inpatient.admit(admission_id, hospital_id, referral_id, admitted_on)
        if referral is None:
            self.commit(inpatient, cause=cause)
        else:
            referral.admit(hospital_id, admission_id, accepted_at=self.clock.now())
            self.commit(referral, inpatient, cause=cause)
        return admission_id

    def discharge(
        self, patient_id: UUID, hospital_id: str, discharged_on: date | None, cause: Cause
    ) -> Stay:
        """End the open stay; the community resumes follow-up when it hears of it."""
        discharged_on = discharged_on or self.today()
        self.plausible("discharged_on", discharged_on, None)  # the admission came after birth
        inpatient = self._inpatient(patient_id) or Inpatient(patient_id)
        stay = inpatient.discharge(hospital_id, discharged_on)
        self.commit(inpatient, cause=cause)
        return stay

    def _referral(self, referral_id: UUID) -> Referral:
        referral: Referral = self.repository.get(Referral.create_id(referral_id))
        return referral

    def _inpatient(self, patient_id: UUID) -> Inpatient | None:
        inpatient: Inpatient | None = self.find(Inpatient.create_id(patient_id))
        return inpatient
