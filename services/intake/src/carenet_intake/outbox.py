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

from carenet_contracts.intake import (
    ContactDetailsShared,
    DiagnosisRecorded,
    PatientAdmitted,
    PatientDischarged,
    PersonalDataErased,
    ReferralAccepted,
    ReferralDeclined,
    ReportingDeadlineMissed,
)
from carenet_intake.domain import Inpatient, Patient, Referral
from carenet_kit.application import OutboundMapper
from carenet_kit.outbox import Outgoing, contract_payload
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
    return Outgoing.of(
        e,
        contract_payload(DiagnosisRecorded, e),
        patient_id=e.originator_id,
        occurred_at=rules.start_of(e.diagnosed_on),
    )


@_map.register
def _(e: Patient.ReportingDeadlineMissed, rules: RuleSection) -> Outgoing:
    """It happened when the deadline day ended in China, whenever the report came."""
    return Outgoing.of(
        e,
        contract_payload(ReportingDeadlineMissed, e),
        patient_id=e.originator_id,
        occurred_at=rules.start_of(e.deadline + timedelta(days=1)),
    )


@_map.register
def _(e: Referral.Accepted, rules: RuleSection) -> Outgoing:
    return Outgoing.of(e, contract_payload(ReferralAccepted, e), occurred_at=e.accepted_at)


@_map.register
def _(e: Referral.Declined, rules: RuleSection) -> Outgoing:
    return Outgoing.of(e, contract_payload(ReferralDeclined, e), occurred_at=e.declined_at)


@_map.register
def _(e: Inpatient.Admitted, rules: RuleSection) -> Outgoing:
    admitted = contract_payload(PatientAdmitted, e)
    return Outgoing.of(e, admitted, occurred_at=rules.start_of(e.admitted_on))


@_map.register
def _(e: Inpatient.Discharged, rules: RuleSection) -> Outgoing:
    discharged = contract_payload(PatientDischarged, e)
    return Outgoing.of(e, discharged, occurred_at=rules.start_of(e.discharged_on))


@_map.register
def _(e: Patient.ContactDetailsShared, rules: RuleSection) -> Outgoing:
    return Outgoing.of(e, contract_payload(ContactDetailsShared, e), patient_id=e.originator_id)


@_map.register
def _(e: Patient.PersonalDataErased, rules: RuleSection) -> Outgoing:
    erased = contract_payload(PersonalDataErased, e)
    return Outgoing.of(e, erased, patient_id=e.originator_id, occurred_at=e.erased_at)
