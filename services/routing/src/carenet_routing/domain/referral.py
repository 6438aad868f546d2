"""A community referral to a hospital, as routing follows it (see `saga.py` for the steps)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_kit.fields import fields_of
from carenet_routing.domain.errors import Refused
from carenet_routing.domain.saga import ENDED, Compensation, Happening, Stage, next_step

REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:routing:referral")

_ESCALATED_BECAUSE = {
    "not accepted": Stage.ACCEPT_OVERDUE,
    "declined": Stage.DECLINED,
    "no hospital": Stage.UNPLACED,
}
"""How version 1 of `Escalated` began its reason, by the stage it escalated at."""


class Referral(Aggregate):
    @staticmethod
    def create_id(referral_id: UUID) -> UUID:
        return uuid5(REFERRAL_NAMESPACE, str(referral_id))

    class Requested(Aggregate.Created):
        referral_id: UUID
        patient_id: UUID
        case_id: UUID
        center_id: str
        reason: str
        risk_level: int

    @event(Requested)
    def __init__(
        self,
        referral_id: UUID,
        patient_id: UUID,
        case_id: UUID,
        center_id: str,
        reason: str,
        risk_level: int,
    ) -> None:
        self.referral_id = referral_id
        self.patient_id = patient_id
        self.case_id = case_id
        self.center_id = center_id
        self.reason = reason
        self.risk_level = risk_level
        self.stage = Stage.REQUESTED
        self.hospital_id: str | None = None
        self.accept_by: datetime | None = None

    class Issued(Aggregate.Event):
        referral_id: UUID
        patient_id: UUID
        case_id: UUID
        from_center_id: str
        hospital_id: str
        reason: str
        risk_level: int
        accept_by: datetime
        directory_version: int
        chosen_because: str
        stage: str

    @event(Issued)
    def _issue(
        self,
        referral_id: UUID,
        patient_id: UUID,
        case_id: UUID,
        from_center_id: str,
        hospital_id: str,
        reason: str,
        risk_level: int,
        accept_by: datetime,
        directory_version: int,
        chosen_because: str,
        stage: str,
    ) -> None:
        self.hospital_id = hospital_id
        self.accept_by = accept_by
        self.stage = Stage(stage)

    class Unplaced(Aggregate.Event):
        """No certified hospital could be chosen."""

        diagnosing_hospital_id: str
        why: str
        directory_version: int
        stage: str

    @event(Unplaced)
    def _unplaced(
        self, diagnosing_hospital_id: str, why: str, directory_version: int, stage: str
    ) -> None:
        self.hospital_id = diagnosing_hospital_id
        self.stage = Stage(stage)

    class HospitalAnswered(Aggregate.Event):
        """Accepted, declined, admitted or discharged, as the hospital (intake) reported it."""

        hospital_id: str
        happening: str
        on: date
        detail: str
        stage: str

    @event(HospitalAnswered)
    def _hospital_answered(
        self, hospital_id: str, happening: str, on: date, detail: str, stage: str
    ) -> None:
        self.stage = Stage(stage)

    class Withdrawn(Aggregate.Event):
        reason: str
        stage: str

    @event(Withdrawn)
    def _withdrawn(self, reason: str, stage: str) -> None:
        self.stage = Stage(stage)

    class AcceptDeadlinePassed(Aggregate.Event):
        accept_by: datetime
        stage: str

    @event(AcceptDeadlinePassed)
    def _accept_deadline_passed(self, accept_by: datetime, stage: str) -> None:
        self.stage = Stage(stage)

    class Escalated(Aggregate.Event):
        """Compensation: people in the network must act on this referral."""

        referral_id: UUID
        patient_id: UUID
        from_center_id: str
        hospital_id: str
        reason: str
        referral_open: bool
        """False when the referral is over without an admission (declined, no hospital)."""
        stage: str
        """The stage the referral reached: it says why (accept_overdue, declined, unplaced)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 said why only in words; they begin the same way for each stage."""
            reason = str(state["reason"])
            stage = next(
                (s for prefix, s in _ESCALATED_BECAUSE.items() if reason.startswith(prefix)),
                Stage.ACCEPT_OVERDUE if state.get("referral_open", True) else Stage.DECLINED,
            )
            state.setdefault("referral_open", stage is Stage.ACCEPT_OVERDUE)
            state["stage"] = stage.value

    @event(Escalated)
    def _escalate(
        self,
        referral_id: UUID,
        patient_id: UUID,
        from_center_id: str,
        hospital_id: str,
        reason: str,
        referral_open: bool,
        stage: str,
    ) -> None:
        pass

    class Cancelled(Aggregate.Event):
        """Compensation: the hospital should no longer expect the patient."""

        referral_id: UUID
        patient_id: UUID
        hospital_id: str
        reason: str

    @event(Cancelled)
    def _cancel(self, referral_id: UUID, patient_id: UUID, hospital_id: str, reason: str) -> None:
        pass

    @property
    def is_open(self) -> bool:
        return self.stage not in ENDED

    # -- the saga --------------------------------------------------------------------------

    def issue(
        self, hospital_id: str, accept_by: datetime, directory_version: int, chosen_because: str
    ) -> None:
        issue = fields_of(
            self.Issued,
            self,
            from_center_id=self.center_id,
            hospital_id=hospital_id,
            accept_by=accept_by,
            directory_version=directory_version,
            chosen_because=chosen_because,
            stage=Stage.ISSUED.value,
        )
        self._issue(**issue)

    def leave_unplaced(self, diagnosing_hospital_id: str, why: str, directory_version: int) -> None:
        self._unplaced(diagnosing_hospital_id, why, directory_version, Stage.UNPLACED.value)
        self._compensate(Compensation.ESCALATE, f"no hospital for the referral: {why}")

    def hospital_answered(
        self, happening: Happening, hospital_id: str, on: date, detail: str = ""
    ) -> str | None:
        """Accepted, declined, admitted or discharged; returns why it was ignored, if it was."""
        if hospital_id != self.hospital_id:
            raise Refused(f"the referral went to {self.hospital_id}, not to {hospital_id}")
        because = f"declined by {hospital_id}: {detail}"
        return self._follow(
            happening,
            lambda stage: self._hospital_answered(hospital_id, happening.value, on, detail, stage),
            because,
        )

    def withdraw(self, reason: str) -> str | None:
        return self._follow(
            Happening.WITHDRAWN,
            lambda stage: self._withdrawn(reason, stage),
            f"withdrawn by the community: {reason}",
        )

    def escalate_if_unaccepted(self, now: datetime) -> bool:
        """Once, when `accept_by` has passed and the hospital has not answered."""
        if self.accept_by is None or now < self.accept_by:
            return False
        accept_by = self.accept_by
        ignored = self._follow(
            Happening.ACCEPT_DEADLINE_PASSED,
            lambda stage: self._accept_deadline_passed(accept_by, stage),
            f"not accepted by {accept_by.isoformat()}",
        )
        return ignored is None

    def _follow(
        self, happening: Happening, record: Callable[[str], None], because: str
    ) -> str | None:
        step = next_step(self.stage, happening)
        if isinstance(step, str):
            return step
        record(step.then.value)
        if step.compensation is not None:
            self._compensate(step.compensation, because)
        return None

    def _compensate(self, compensation: Compensation, reason: str) -> None:
        assert self.hospital_id is not None
        if compensation is Compensation.ESCALATE:
            self._escalate(
                self.referral_id,
                self.patient_id,
                self.center_id,
                self.hospital_id,
                reason,
                referral_open=self.is_open,
                stage=self.stage.value,
            )
        else:
            self._cancel(self.referral_id, self.patient_id, self.hospital_id, reason)
