"""Casework's use case "deadlines and referrals": the scheduler; what hospitals, routing report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from uuid import UUID

import structlog

from carenet_casework.application.base import CaseworkBase
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

    def patient_admitted(
        self,
        patient_id: UUID,
        admission_id: UUID,
        hospital_id: str,
        admitted_on: date,
        cause: Cause,
    ) -> None:
        self._change_active_case(
            patient_id,
            lambda case: case.admitted(admission_id, hospital_id, admitted_on, self.rules),
            cause,
            unchanged_because="admission of a patient without an active case at home",
        )

    def patient_discharged(
        self, patient_id: UUID, admission_id: UUID, discharged_on: date, cause: Cause
    ) -> None:
        self._change_active_case(
            patient_id,
            lambda case: case.discharged(admission_id, discharged_on, self.rules),
            cause,
            unchanged_because="discharge of a patient without an active case",
        )

    def referral_ended(
        self, patient_id: UUID, referral_id: UUID, outcome: str, cause: Cause
    ) -> None:
        self._change_active_case(
            patient_id,
            lambda case: case.referral_ended(referral_id, outcome),
            cause,
            unchanged_because="end of a referral the case does not hold open",
        )

    def referral_not_admitted(
        self, patient_id: UUID, referral_id: UUID, outcome: str, at: datetime, cause: Cause
    ) -> None:
        today = self.rules.local_date(at)
        self._change_active_case(
            patient_id,
            lambda case: case.referral_not_admitted(referral_id, outcome, today, self.rules),
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
