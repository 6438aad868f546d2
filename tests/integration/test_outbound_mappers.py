"""Every outbound mapper's output is pinned byte for byte: one sample of each mapped domain
event, built from its declared fields, must map to the payload recorded in
`outbound/payloads.json` (written by the explicit field-by-field mappers before the mappers
were declared as field mappings). Regenerate only for a deliberate, additive contract change:
`CARENET_RECORD_OUTBOUND=1 pytest tests/integration/test_outbound_mappers.py`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.domain import DomainEventProtocol

from carenet_audit import outbox as audit_outbox
from carenet_audit.domain import EmergencyAccess, HistoryRead
from carenet_casework import outbox as casework_outbox
from carenet_casework.domain import (
    CareTeam,
    Case,
    Family,
    RehabilitationSession,
    case_deadlines,
    case_referrals,
    case_visits,
)
from carenet_casework.domain.case import Closed, ManagerAssigned, ManagerReassigned
from carenet_casework.rules import RuleSet as CaseworkRules
from carenet_intake import outbox as intake_outbox
from carenet_intake.domain import Inpatient, Patient, Referral
from carenet_intake.rules import IntakeRules
from carenet_kit.outbox import Outgoing
from carenet_notifications import outbox as notifications_outbox
from carenet_notifications.domain import Delivery, Notification
from carenet_notifications.domain.delivery import DeliveryFacts
from carenet_routing import outbox as routing_outbox
from carenet_routing.domain import Referral as RoutingReferral
from carenet_routing.domain import Route

RECORDED = Path(__file__).parent / "outbound" / "payloads.json"
AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ON = date(2026, 3, 2)

STRINGS = {
    "mode": "home",
    "classification": "stable",
    "category": "schizophrenia",
    "kind": "peer_support",
    "role": "case_manager",
    "legal_basis": "pipl_47_purpose_achieved",
    "stage": "accept_overdue",
    "channel": "webhook",
    "urgency": "urgent",
    "contact_key": "k" * 43,
    "icd10_code": "F20.0",
    "region_code": "110105",
    "sealed": "c2VhbGVk",
    "medication_adherence": "intermittent",
    "nonadherence_reason": "side_effects",
    "instrument": "phq9",
    "band": "moderate",
}
"""Sample values of the string fields a contract reads as one of its enumerations."""
KINDS: dict[type[object], dict[str, object]] = {
    case_visits.EmergencyRecorded: {"kind": "self_harm"},
    case_referrals.ReferralRequested: {"reason": "risk"},
    RoutingReferral.Issued: {"reason": "risk"},
}
"""The same field name holding another enumeration in one event."""


def sample(field: str, kind: object) -> object:  # noqa: PLR0911
    """A deterministic value of one declared field, from its name and type."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    origin = typing.get_origin(kind) or kind
    if origin is typing.Literal:
        return typing.get_args(kind)[0]
    if kind is UUID:
        return uuid5(NAMESPACE_URL, field)
    if kind is datetime:
        return AT
    if kind is date:
        return ON
    if kind is bool:
        return True
    if kind is int:
        return len(field) % 5 + 1  # within every bounded count (risk levels 0-5)
    if kind is str:
        return STRINGS.get(field, f"{field}-sample")
    if origin in (list, tuple):
        item = typing.get_args(kind)[0]
        return origin([sample(field, item)])
    if origin is dict:
        key, value = typing.get_args(kind)
        return {sample(field, key): sample(field, value)}
    if typing.is_typeddict(kind):
        hints = typing.get_type_hints(kind)
        return {name: sample(name, hint) for name, hint in hints.items()}
    raise TypeError(f"no sample for {field}: {kind}")


def event(cls: type[DomainEventProtocol[UUID]], **overrides: object) -> DomainEventProtocol[UUID]:
    hints = typing.get_type_hints(cls)
    values = {
        f.name: sample(f.name, hints[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name not in ("originator_id", "originator_version", "timestamp")
    }
    values.update(KINDS.get(cls, {}))
    values.update(overrides)
    return cls(  # type: ignore[call-arg]
        originator_id=uuid5(NAMESPACE_URL, "originator"),
        originator_version=1,
        timestamp=AT,
        **values,
    )


def _without_rule_set_version() -> dict[str, object]:
    """The facts of a delivery recorded before deliveries kept the rule set's version."""
    facts = sample("delivery", DeliveryFacts)
    assert isinstance(facts, dict)
    return {name: value for name, value in facts.items() if name != "rule_set_version"}


Mapper = Callable[[DomainEventProtocol[UUID]], Outgoing | None]
CASEWORK = casework_outbox.integration_events(CaseworkRules.load())
INTAKE = intake_outbox.integration_events(IntakeRules.load())

SAMPLES: dict[str, tuple[Mapper, DomainEventProtocol[UUID]]] = {
    "audit/HistoryRead.Recorded": (audit_outbox.to_integration_event, event(HistoryRead.Recorded)),
    "audit/HistoryRead.Recorded/denied": (
        audit_outbox.to_integration_event,
        event(HistoryRead.Recorded, granted=False),
    ),
    "audit/EmergencyAccess.Granted": (
        audit_outbox.to_integration_event,
        event(EmergencyAccess.Granted),
    ),
    "casework/Case.Opened": (CASEWORK, event(Case.Opened)),
    "casework/ManagerAssigned": (CASEWORK, event(ManagerAssigned)),
    "casework/ManagerReassigned": (CASEWORK, event(ManagerReassigned)),
    "casework/VisitRecorded": (CASEWORK, event(case_visits.VisitRecorded)),
    "casework/ReferralRequested": (CASEWORK, event(case_referrals.ReferralRequested)),
    "casework/ReferralWithdrawn": (CASEWORK, event(case_referrals.ReferralWithdrawn)),
    "casework/ResumedAfterDischarge": (CASEWORK, event(case_referrals.ResumedAfterDischarge)),
    "casework/JointFollowUpScheduled": (CASEWORK, event(case_referrals.JointFollowUpScheduled)),
    "casework/NextFollowUpRevised": (CASEWORK, event(case_deadlines.NextFollowUpRevised)),
    "casework/EmergencyRecorded": (CASEWORK, event(case_visits.EmergencyRecorded)),
    "casework/Closed": (CASEWORK, event(Closed)),
    "casework/FollowUpMissed/first": (CASEWORK, event(case_deadlines.FollowUpMissed)),
    "casework/FollowUpMissed": (
        CASEWORK,
        event(case_deadlines.FollowUpMissed, first_visit=False),
    ),
    "casework/LostToFollowUp": (CASEWORK, event(case_deadlines.LostToFollowUp)),
    "casework/FollowUpMissWithdrawn": (CASEWORK, event(case_deadlines.FollowUpMissWithdrawn)),
    "casework/LostToFollowUpWithdrawn": (
        CASEWORK,
        event(case_deadlines.LostToFollowUpWithdrawn),
    ),
    "casework/YearRecounted/met": (
        CASEWORK,
        event(case_deadlines.YearRecounted, below_minimum=False),
    ),
    "casework/YearRecounted/below": (CASEWORK, event(case_deadlines.YearRecounted)),
    "casework/YearChecked/below": (CASEWORK, event(case_deadlines.YearChecked)),
    "casework/RehabilitationSession.Attended": (
        CASEWORK,
        event(RehabilitationSession.Attended),
    ),
    "casework/CareTeam.MemberJoined": (CASEWORK, event(CareTeam.MemberJoined)),
    "casework/CareTeam.MemberLeft": (CASEWORK, event(CareTeam.MemberLeft)),
    "casework/Family.Linked": (CASEWORK, event(Family.Linked)),
    "casework/Family.ConsentWithdrawn": (CASEWORK, event(Family.ConsentWithdrawn)),
    "intake/Patient.DiagnosisRecorded": (INTAKE, event(Patient.DiagnosisRecorded)),
    "intake/Patient.ReportingDeadlineMissed": (INTAKE, event(Patient.ReportingDeadlineMissed)),
    "intake/Referral.Accepted": (INTAKE, event(Referral.Accepted)),
    "intake/Referral.Declined": (INTAKE, event(Referral.Declined)),
    "intake/Inpatient.Admitted": (INTAKE, event(Inpatient.Admitted)),
    "intake/Inpatient.Discharged": (INTAKE, event(Inpatient.Discharged)),
    "intake/Patient.ContactDetailsShared": (INTAKE, event(Patient.ContactDetailsShared)),
    "intake/Patient.PersonalDataErased": (INTAKE, event(Patient.PersonalDataErased)),
    "notifications/Notification.Delivered": (
        notifications_outbox.to_integration_event,
        event(Notification.Delivered),
    ),
    "notifications/Delivery.Succeeded": (
        notifications_outbox.to_integration_event,
        event(Delivery.Succeeded),
    ),
    "notifications/Delivery.Succeeded/before-rule-set-version": (
        notifications_outbox.to_integration_event,
        event(Delivery.Succeeded, delivery=_without_rule_set_version()),
    ),
    "notifications/Delivery.GaveUp": (
        notifications_outbox.to_integration_event,
        event(Delivery.GaveUp),
    ),
    "notifications/Notification.Acknowledged": (
        notifications_outbox.to_integration_event,
        event(Notification.Acknowledged),
    ),
    "notifications/Notification.Escalated": (
        notifications_outbox.to_integration_event,
        event(Notification.Escalated),
    ),
    "routing/Route.Routed": (routing_outbox.to_integration_event, event(Route.Routed)),
    "routing/Route.HeldForManualRouting": (
        routing_outbox.to_integration_event,
        event(Route.HeldForManualRouting),
    ),
    "routing/Route.ManualRoutingOverdue": (
        routing_outbox.to_integration_event,
        event(Route.ManualRoutingOverdue),
    ),
    "routing/Route.Transferred": (routing_outbox.to_integration_event, event(Route.Transferred)),
    "routing/Referral.Issued": (
        routing_outbox.to_integration_event,
        event(RoutingReferral.Issued),
    ),
    "routing/Referral.Escalated": (
        routing_outbox.to_integration_event,
        event(RoutingReferral.Escalated),
    ),
    "routing/Referral.Cancelled": (
        routing_outbox.to_integration_event,
        event(RoutingReferral.Cancelled),
    ),
}


def published(outgoing: Outgoing | None) -> dict[str, object]:
    """What leaves the service: the payload's JSON exactly, its type, patient and time."""
    assert outgoing is not None
    return {
        "event_type": outgoing.payload.event_type,
        "patient_id": str(outgoing.patient_id),
        "occurred_at": outgoing.occurred_at.isoformat(),
        "payload": outgoing.payload.model_dump_json(),
    }


def test_the_recording_covers_every_sample() -> None:
    if os.environ.get("CARENET_RECORD_OUTBOUND"):
        recorded = {name: published(mapper(e)) for name, (mapper, e) in SAMPLES.items()}
        RECORDED.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    assert set(json.loads(RECORDED.read_text())) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_mapped_event_publishes_the_recorded_bytes(name: str) -> None:
    mapper, domain_event = SAMPLES[name]
    assert published(mapper(domain_event)) == json.loads(RECORDED.read_text())[name]
