"""A case's referrals to hospital, and the admissions and discharges hospitals report.

A case holds at most one referral open; it ends when the referral is withdrawn, cancelled or
given up by routing, or when the hospital declines (then the next follow-up is a joint one).
Admissions and discharges count from the day they happened, however late they are reported.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from carenet_casework.domain.case_deadlines import CaseDeadlines
from carenet_casework.domain.case_file import ACTIVE, CLOSED, IN_HOSPITAL, CaseConflict, CaseFile
from carenet_casework.domain.schedule import AdmissionFact, DischargeFact, JointFollowUpFact
from carenet_casework.rules import RuleSet

REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:referral")


class ReferralRequested(Aggregate.Event):
    patient_id: UUID
    center_id: str
    referral_id: UUID
    reason: str
    risk_level: int
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.open_referral_id = self.referral_id


class ReferralWithdrawn(Aggregate.Event):
    patient_id: UUID
    referral_id: UUID
    reason: str

    def apply(self, case: CaseFile) -> None:
        case.open_referral_id = None


class ReferralEnded(Aggregate.Event):
    referral_id: UUID
    outcome: str

    def apply(self, case: CaseFile) -> None:
        case.open_referral_id = None


class JointFollowUpScheduled(Aggregate.Event):
    """The referral ended without an admission: the next follow-up is a joint one."""

    class_version = 2

    patient_id: UUID
    center_id: str
    referral_id: UUID
    outcome: str
    decided_on: date
    due_on: date
    """The case's next due day once the joint follow-up is in its place."""
    rule_set_version: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["decided_on"] = state["timestamp"].date()

    def apply(self, case: CaseFile) -> None:
        case.facts.append(JointFollowUpFact(self.decided_on))
        case.open_referral_id = None
        case.next_due = self.due_on


class Admitted(Aggregate.Event):
    admission_id: UUID
    hospital_id: str
    admitted_on: date

    def apply(self, case: CaseFile) -> None:
        case.admissions.append(self.admission_id)
        case.facts.append(AdmissionFact(self.admitted_on))


class ResumedAfterDischarge(Aggregate.Event):
    patient_id: UUID
    center_id: str
    admission_id: UUID
    discharged_on: date
    due_on: date
    """The case's next due day once the discharge is in its place (a visit after the
    discharge, entered before it, keeps its schedule)."""
    rule_set_version: str

    def apply(self, case: CaseFile) -> None:
        case.facts.append(DischargeFact(self.discharged_on))
        case.next_due = self.due_on
        case.open_referral_id = None


class CaseReferrals(CaseDeadlines):
    """Referrals asked for by the case, and the hospital stays that end them."""

    def _request_referral_once(self, referral_id: UUID, reason: str, rules: RuleSet) -> None:
        if self.open_referral_id is None and self.status == ACTIVE:
            self.trigger_event(
                ReferralRequested,
                patient_id=self.patient_id,
                center_id=self.center_id,
                referral_id=referral_id,
                reason=reason,
                risk_level=self.risk_level,
                rule_set_version=rules.version,
            )

    def withdraw_referral(self, referral_id: UUID, reason: str) -> None:
        if self.open_referral_id != referral_id:
            raise CaseConflict("this referral is not open on the case")
        if self.status == IN_HOSPITAL:
            raise CaseConflict("the patient has been admitted; the referral is complete")
        self.trigger_event(
            ReferralWithdrawn,
            patient_id=self.patient_id,
            referral_id=referral_id,
            reason=reason,
        )

    def referral_ended(self, referral_id: UUID, outcome: str) -> bool:
        """Routing cancelled or gave up the referral: a new one may be asked for."""
        if self.open_referral_id != referral_id or self.status == IN_HOSPITAL:
            return False
        self.trigger_event(ReferralEnded, referral_id=referral_id, outcome=outcome)
        return True

    def referral_not_admitted(
        self, referral_id: UUID, outcome: str, today: date, rules: RuleSet
    ) -> bool:
        """The hospital declined, or none could be chosen: the rules' "if not admitted, follow up
        jointly (psychiatrist, neighbourhood committee, police)", within the unstable interval."""
        if self.open_referral_id != referral_id or self.status != ACTIVE:
            return False
        derived = self.schedule_with(JointFollowUpFact(today), rules)
        self.trigger_event(
            JointFollowUpScheduled,
            patient_id=self.patient_id,
            center_id=self.center_id,
            referral_id=referral_id,
            outcome=outcome,
            decided_on=today,
            due_on=derived.next_due,
            rule_set_version=rules.version,
        )
        self._settle(derived, f"a joint follow-up was decided on {today}", rules)
        return True

    def admitted(
        self, admission_id: UUID, hospital_id: str, admitted_on: date, rules: RuleSet
    ) -> bool:
        """In hospital from `admitted_on`, however late the hospital's report arrives: a miss
        recorded while the patient was in fact in hospital is withdrawn."""
        if self.status == CLOSED or admission_id in self.admissions:
            return False
        derived = self.schedule_with(AdmissionFact(admitted_on), rules)
        self.trigger_event(
            Admitted,
            admission_id=admission_id,
            hospital_id=hospital_id,
            admitted_on=admitted_on,
        )
        self._settle(derived, f"an admission on {admitted_on} was reported", rules)
        return True

    def discharged(self, admission_id: UUID, discharged_on: date, rules: RuleSet) -> bool:
        """Back from hospital: the community follows up within the rules' interval."""
        if self.status == CLOSED:
            return False
        derived = self.schedule_with(DischargeFact(discharged_on), rules)
        self.trigger_event(
            ResumedAfterDischarge,
            patient_id=self.patient_id,
            center_id=self.center_id,
            admission_id=admission_id,
            discharged_on=discharged_on,
            due_on=derived.next_due,
            rule_set_version=rules.version,
        )
        self._settle(derived, f"a discharge on {discharged_on} was reported", rules)
        return True
