"""Casework's use case "deadlines and referrals": the scheduler; what hospitals, routing report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

import structlog

from carenet_casework.application.base import CaseworkBase
from carenet_casework.commands import (
    EndReferral,
    RecordAdmission,
    RecordDischarge,
    RecordReferralNotAdmitted,
)
from carenet_casework.domain import Case
from carenet_kit.outbox import Cause
from carenet_kit.scheduler import act_once_each

log = structlog.get_logger()


class DeadlinesAndReferrals(CaseworkBase):
    """Missed follow-ups and case years; referrals withdrawn, ended, or ended in a hospital stay."""

    def withdraw_referral(
        self, case_id: UUID, referral_id: UUID, reason: str, cause: Cause
    ) -> None:
        case: Case = self.repository.get(case_id)
        case.withdraw_referral(referral_id, reason)
        self.commit(case, cause=cause)

    # -- what hospitals and routing report -------------------------------------------------------

    def record_admission(self, command: RecordAdmission, cause: Cause) -> None:
        self._change_active_case(
            command.patient_id,
            lambda case: case.admitted(
                command.admission_id, command.hospital_id, command.admitted_on, self.rules
            ),
            cause,
            unchanged_because="admission of a patient without an active case at home",
        )

    def record_discharge(self, command: RecordDischarge, cause: Cause) -> None:
        self._change_active_case(
            command.patient_id,
            lambda case: case.discharged(command.admission_id, command.discharged_on, self.rules),
            cause,
            unchanged_because="discharge of a patient without an active case",
        )

    def end_referral(self, command: EndReferral, cause: Cause) -> None:
        self._change_active_case(
            command.patient_id,
            lambda case: case.referral_ended(command.referral_id, command.outcome),
            cause,
            unchanged_because="end of a referral the case does not hold open",
        )

    def record_referral_not_admitted(
        self, command: RecordReferralNotAdmitted, cause: Cause
    ) -> None:
        ended_on = self.rules.local_date(command.ended_at)
        self._change_active_case(
            command.patient_id,
            lambda case: case.referral_not_admitted(
                command.referral_id, command.outcome, ended_on, self.rules
            ),
            cause,
            unchanged_because="end of a referral the case does not hold open",
        )

    def _change_active_case(
        self,
        patient_id: UUID,
        change: Callable[[Case], bool],
        cause: Cause,
        unchanged_because: str,
    ) -> None:
        """Apply a reported fact to the patient's active case; log why when it changes nothing."""
        case = self._active_case_of(patient_id)
        if case is not None and change(case):
            self.commit(case, cause=cause)
        else:
            log.info("event changes nothing here", reason=unchanged_because)

    # -- time ------------------------------------------------------------------------------------

    def handle_deadlines(self, case_ids: Iterable[UUID], now: datetime) -> int:
        """Record the missed follow-ups and yearly checks of these cases, each once."""
        today = self.rules.local_date(now)

        def handle(case: Case) -> bool:
            return case.handle_deadlines(today, self.rules)

        return act_once_each(self, case_ids, handle)
