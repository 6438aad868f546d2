"""Intake's outbound mapper: which domain events other services hear about, and what they carry.

Diagnoses in scope, late reports, and the hospital's answers to referrals, admissions and
discharges leave intake; none carries a name, national ID, phone, address or free text.
Contact details leave only sealed to one case's key; an erasure is announced so that every
holder of a key for the patient destroys it. Registrations, out-of-scope diagnoses (kept at
the hospital on an override reason), received and cancelled referrals (routing already knows)
stay inside.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial, singledispatch
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_contracts import DiagnosisCategory
from carenet_contracts.intake import (
    ContactDetailsShared,
    DiagnosisRecorded,
    ErasureBasis,
    PatientAdmitted,
    PatientDischarged,
    PersonalDataErased,
    ReferralAccepted,
    ReferralDeclined,
    ReportingDeadlineMissed,
)
from carenet_intake.domain import Inpatient, Patient, Referral
from carenet_kit.application import OutboundMapper
from carenet_kit.outbox import Outgoing
from carenet_kit.rule_set import RuleSection


def integration_events(rules: RuleSection) -> OutboundMapper:
    """The outbound mapper under the rule set in force: a hospital's calendar day starts at
    midnight in the rule set's time zone (in China, not UTC, eight hours later)."""
    return partial(_map, rules=rules)


@singledispatch
def _map(domain_event: DomainEventProtocol[UUID], rules: RuleSection) -> Outgoing | None:
    """Every event not registered below stays inside intake."""
    return None


@_map.register
def _(e: Patient.DiagnosisRecorded, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.originator_id,
        occurred_at=rules.start_of(e.diagnosed_on),
        payload=DiagnosisRecorded(
            diagnosis_id=e.diagnosis_id,
            hospital_id=e.hospital_id,
            icd10_code=e.icd10_code,
            category=DiagnosisCategory(e.category),
            diagnosed_on=e.diagnosed_on,
            risk_level=e.risk_level,
            region_code=e.region_code,
        ),
    )


@_map.register
def _(e: Patient.ReportingDeadlineMissed, rules: RuleSection) -> Outgoing:
    """It happened when the deadline day ended in China, whenever the report came."""
    return Outgoing(
        patient_id=e.originator_id,
        occurred_at=rules.start_of(e.deadline + timedelta(days=1)),
        payload=ReportingDeadlineMissed(
            diagnosis_id=e.diagnosis_id,
            hospital_id=e.hospital_id,
            diagnosed_on=e.diagnosed_on,
            deadline=e.deadline,
            reported_on=e.reported_on,
            working_days_taken=e.working_days_taken,
            calendar_version=e.calendar_version,
            rule_set_version=e.rule_set_version,
        ),
    )


@_map.register
def _(e: Referral.Accepted, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.patient_id,
        occurred_at=e.accepted_at,
        payload=ReferralAccepted(
            referral_id=e.referral_id, hospital_id=e.hospital_id, accepted_at=e.accepted_at
        ),
    )


@_map.register
def _(e: Referral.Declined, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.patient_id,
        occurred_at=e.declined_at,
        payload=ReferralDeclined(
            referral_id=e.referral_id, hospital_id=e.hospital_id, reason=e.reason
        ),
    )


@_map.register
def _(e: Inpatient.Admitted, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.patient_id,
        occurred_at=rules.start_of(e.admitted_on),
        payload=PatientAdmitted(
            admission_id=e.admission_id,
            hospital_id=e.hospital_id,
            referral_id=e.referral_id,
            admitted_on=e.admitted_on,
        ),
    )


@_map.register
def _(e: Inpatient.Discharged, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.patient_id,
        occurred_at=rules.start_of(e.discharged_on),
        payload=PatientDischarged(
            admission_id=e.admission_id,
            hospital_id=e.hospital_id,
            referral_id=e.referral_id,
            discharged_on=e.discharged_on,
        ),
    )


@_map.register
def _(e: Patient.ContactDetailsShared, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.originator_id,
        occurred_at=e.timestamp,
        payload=ContactDetailsShared(case_id=e.case_id, center_id=e.center_id, sealed=e.sealed),
    )


@_map.register
def _(e: Patient.PersonalDataErased, rules: RuleSection) -> Outgoing:
    return Outgoing(
        patient_id=e.originator_id,
        occurred_at=e.erased_at,
        payload=PersonalDataErased(legal_basis=ErasureBasis(e.legal_basis), reference=e.reference),
    )
