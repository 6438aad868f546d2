"""What one integration event means to an auditor: its tier, a one-line summary, who acted,
and under which rule version it was decided.

Everything here is read from the contract's own fields; messages carry no personal data, and
nothing here adds any. A contract without a summary falls back to its event type (a test
keeps every current contract covered).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from carenet_audit_tool.describe_recovery import medication, recovery_actor, recovery_summary
from carenet_contracts import Envelope, Payload
from carenet_contracts.access import RecordAccessed
from carenet_contracts.audit import EmergencyAccessGranted, PatientHistoryRead
from carenet_contracts.casework import (
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    EmergencyRecorded,
    FamilyConsentWithdrawn,
    FamilyMemberLinked,
    FirstVisitOverdue,
    FollowUpMissWithdrawn,
    FollowUpOverdue,
    FollowUpsBelowYearlyMinimum,
    FollowUpsBelowYearlyMinimumWithdrawn,
    FollowUpScheduled,
    LostToFollowUp,
    LostToFollowUpWithdrawn,
    ReferralRequested,
    ReferralWithdrawn,
    RehabilitationSessionAttended,
    VisitCompleted,
)
from carenet_contracts.common import CareTeamRole
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
from carenet_contracts.notifications import (
    NotificationAcknowledged,
    NotificationDelivered,
    NotificationEscalated,
    NotificationFailed,
)
from carenet_contracts.recovery import (
    ScreeningCompleted,
)
from carenet_contracts.routing import (
    ManualRoutingOverdue,
    PatientRouted,
    PatientTransferred,
    ReferralCancelled,
    ReferralEscalated,
    ReferralIssued,
    RoutingPending,
)


class Tier(StrEnum):
    """The swimlanes of a patient's history, in the order the pathway crosses them."""

    HOSPITAL = "hospital"
    NETWORK = "network"
    COMMUNITY = "community"
    FAMILY = "family"
    AUDIT = "audit"

    @property
    def label(self) -> str:
        return TIER_LABELS[self]


TIER_LABELS = {
    Tier.HOSPITAL: "Hospital",
    Tier.NETWORK: "Network (routing)",
    Tier.COMMUNITY: "Community & social work",
    Tier.FAMILY: "Family",
    Tier.AUDIT: "Audit (reads)",
}

PRODUCER_TIERS = {
    "intake": Tier.HOSPITAL,
    "routing": Tier.NETWORK,
    "casework": Tier.COMMUNITY,
    "audit": Tier.AUDIT,
}

FAMILY_ROLES = frozenset({CareTeamRole.FAMILY_MEMBER, CareTeamRole.GUARDIAN})

RULE_VERSION_FIELDS = {
    "rule_set_version": "rule_set",
    "directory_version": "directory",
    "calendar_version": "calendar",
}
"""Data fields naming the rules a producer decided under, and their names in a history."""


def tier_of(envelope: Envelope[Any], tiers_by_event_id: dict[str, Tier]) -> Tier:  # noqa: PLR0911
    """The lane of an event; a notification sits where the event it is about sits, unless it
    went to a relative (then it is part of what the family was told)."""
    data = envelope.data
    match data:
        case FamilyMemberLinked() | FamilyConsentWithdrawn():
            return Tier.FAMILY
        case CareTeamMemberJoined() | CareTeamMemberLeft() if data.role in FAMILY_ROLES:
            return Tier.FAMILY
        case NotificationDelivered() | NotificationFailed() | NotificationAcknowledged():
            if data.recipient.startswith("family:"):
                return Tier.FAMILY
            return tiers_by_event_id.get(str(data.about_event_id), Tier.COMMUNITY)
        case NotificationEscalated():
            return tiers_by_event_id.get(str(data.about_event_id), Tier.COMMUNITY)
        case RecordAccessed():
            return Tier.AUDIT
    return PRODUCER_TIERS.get(envelope.producer, Tier.COMMUNITY)


def actor_of(data: Payload) -> str | None:  # noqa: PLR0911
    """The person, organisation or party the event names as having acted; None when the
    producer's rules acted (a deadline passed, routing chose by catchment)."""
    if (recovery := recovery_actor(data)) is not None:
        return recovery
    match data:
        case (
            DiagnosisRecorded()
            | ReferralAccepted()
            | ReferralDeclined()
            | PatientAdmitted()
            | PatientDischarged()
        ):
            return data.hospital_id
        case PatientRouted():
            return None if data.routed_by == "catchment" else data.routed_by
        case CaseOpened() | CaseManagerAssigned() | CaseClosed() | ReferralRequested():
            return data.center_id
        case VisitCompleted():
            return data.case_manager_id
        case ScreeningCompleted():
            return data.screened_by
        case EmergencyRecorded():
            return data.handled_by
        case RehabilitationSessionAttended():
            return data.facilitator_id
        case FamilyMemberLinked():
            return data.consent_given_by
        case FamilyConsentWithdrawn():
            return data.withdrawn_by
        case NotificationAcknowledged():
            return data.recipient
        case PatientHistoryRead() | RecordAccessed() | EmergencyAccessGranted():
            return f"{data.reader_id} ({data.reader_role}, {data.reader_organisation})"
    return None


def rule_versions_of(envelope: Envelope[Any]) -> dict[str, str]:
    """The rule, directory and calendar versions the producer decided under, when it says;
    for a screening, the assessment provider that scored it."""
    fields = envelope.data.model_dump()
    versions = {
        name: str(fields[field])
        for field, name in RULE_VERSION_FIELDS.items()
        if fields.get(field) is not None
    }
    if isinstance(envelope.data, ScreeningCompleted):
        by = envelope.data.assessed_by
        versions["assessment"] = f"{by.provider}/{by.model} {by.version}"
    return versions


def _correction(data: Payload) -> str | None:
    """A finding withdrawn because a record entered late placed the history otherwise."""
    match data:
        case FollowUpMissWithdrawn():
            return f"Follow-up due {data.due_on} no longer counts as missed: {data.reason}"
        case LostToFollowUpWithdrawn():
            dates = ", ".join(map(str, data.missed_due_dates))
            return f"Lost to follow-up (misses due {dates}) withdrawn: {data.reason}"
        case FollowUpsBelowYearlyMinimumWithdrawn():
            return (
                f"{data.follow_ups} of {data.required} follow-ups after all in the case year "
                f"{data.year_from} to {data.year_to}: {data.reason}"
            )
    return None


def _short(uuid: object) -> str:
    return str(uuid)[:8]


def summary_of(data: Payload) -> str:  # noqa: PLR0911, PLR0912, PLR0915
    """One line saying what happened, from the contract's fields."""
    if (correction := _correction(data)) is not None:
        return correction
    if (recovery := recovery_summary(data)) is not None:
        return recovery
    match data:
        # hospital
        case DiagnosisRecorded():
            return (
                f"Diagnosed {data.category.value.replace('_', ' ')} ({data.icd10_code}), "
                f"risk {data.risk_level}, region {data.region_code}"
            )
        case ReportingDeadlineMissed():
            return (
                f"Diagnosis reported {data.working_days_taken} working days after "
                f"{data.diagnosed_on}, past the deadline {data.deadline}"
            )
        case ReferralAccepted():
            return f"{data.hospital_id} accepted referral {_short(data.referral_id)}"
        case ReferralDeclined():
            return f"{data.hospital_id} declined referral {_short(data.referral_id)}: {data.reason}"
        case PatientAdmitted():
            return f"Admitted to {data.hospital_id} on {data.admitted_on}"
        case PatientDischarged():
            return f"Discharged from {data.hospital_id} on {data.discharged_on}"
        case ContactDetailsShared():
            return f"Contact details sealed to case {_short(data.case_id)} at {data.center_id}"
        case PersonalDataErased():
            return (
                f"Personal data erased ({data.legal_basis.value}, reference {data.reference}); "
                "the history stays"
            )
        # network
        case PatientRouted():
            return (
                f"Routed to {data.center_id} (region {data.region_code}); "
                f"first visit due {data.first_visit_due}"
            )
        case RoutingPending():
            return f"Waiting for manual routing ({data.reason}); route by {data.route_by}"
        case ManualRoutingOverdue():
            return f"Manual routing overdue: it was due by {data.route_by}"
        case PatientTransferred():
            return (
                f"Transferred from {data.from_center_id} to {data.to_center_id} "
                f"(moved {data.moved_on}); first visit due {data.first_visit_due}"
            )
        case ReferralIssued():
            return (
                f"Referral {_short(data.referral_id)} sent to {data.hospital_id} "
                f"({data.reason.value}, risk {data.risk_level})"
            )
        case ReferralEscalated():
            state = "still open" if data.referral_open else "over"
            return f"Referral {_short(data.referral_id)} escalated ({data.cause}, {state})"
        case ReferralCancelled():
            return f"Referral {_short(data.referral_id)} cancelled: {data.reason}"
        # community & social work
        case CaseOpened():
            continued = " (continues a transferred case)" if data.transferred_from_case_id else ""
            return (
                f"Case opened at {data.center_id}{continued}; "
                f"first visit due {data.first_visit_due}"
            )
        case CaseManagerAssigned():
            return f"{data.case_manager_id} became case manager ({data.reason})"
        case VisitCompleted():
            return (
                f"{data.mode.value.capitalize()} visit on {data.visited_on}: "
                f"{data.classification.value.replace('_', ' ')}, risk {data.risk_level}; "
                f"{medication(data)}; next follow-up {data.next_follow_up_due}"
            )
        case CaseClosed():
            return f"Case at {data.center_id} closed: {data.reason}"
        case FollowUpScheduled():
            return f"Follow-up set for {data.due_on}: {data.reason}"
        case FirstVisitOverdue():
            return f"First visit due {data.due_on} was not made"
        case FollowUpOverdue():
            return (
                f"Follow-up due {data.due_on} missed ({data.consecutive_misses} in a row); "
                f"rescheduled to {data.rescheduled_to}"
            )
        case LostToFollowUp():
            return f"Lost to follow-up after {len(data.missed_due_dates)} missed follow-ups"
        case FollowUpsBelowYearlyMinimum():
            return (
                f"{data.follow_ups} of {data.required} required follow-ups in the case year "
                f"{data.year_from} to {data.year_to}"
            )
        case ReferralRequested():
            return f"{data.center_id} asked for a hospital referral ({data.reason.value})"
        case ReferralWithdrawn():
            return f"Referral {_short(data.referral_id)} withdrawn: {data.reason}"
        case EmergencyRecorded():
            late = "; recorded late" if data.recorded_late else ""
            kind = data.kind.value.replace("_", " ")
            return f"Emergency ({kind}) handled by {data.handled_by}{late}"
        case CareTeamMemberJoined():
            return f"{data.member_id} joined the care team as {data.role.value.replace('_', ' ')}"
        case CareTeamMemberLeft():
            return f"{data.member_id} left the care team ({data.role.value}): {data.reason}"
        case RehabilitationSessionAttended():
            return (
                f"Attended {data.kind.value.replace('_', ' ')} '{data.topic}' "
                f"({data.duration_minutes} min)"
            )
        # family
        case FamilyMemberLinked():
            guardian = " as guardian" if data.is_guardian else ""
            told = ", ".join(data.scope.notified_of) or "nothing"
            return (
                f"Relative {data.member_id} ({data.relationship}) linked{guardian}; "
                f"consent by {data.consent_given_by}; told of {told}"
            )
        case FamilyConsentWithdrawn():
            return f"Consent for relative {data.member_id} withdrawn by {data.withdrawn_by}"
        # notifications
        case NotificationDelivered():
            return (
                f"{data.recipient} told of {data.about_event_type} "
                f"by {data.channel} ({data.urgency})"
            )
        case NotificationFailed():
            return (
                f"{data.channel} could not tell {data.recipient} of {data.about_event_type} "
                f"after {data.attempts} attempts"
            )
        case NotificationAcknowledged():
            return f"{data.recipient} acknowledged notification {_short(data.notification_id)}"
        case NotificationEscalated():
            return (
                f"{data.recipient} did not acknowledge for "
                f"{data.unacknowledged_for_minutes} min: escalated to {data.escalated_to}"
            )
        # audit
        case PatientHistoryRead():
            as_of = f" as of {data.as_of.isoformat()}" if data.as_of else ""
            return (
                f"History read{as_of} for {data.purpose} ({data.justification}): "
                f"{data.outcome}, {data.events_returned} events"
            )
        case RecordAccessed():
            grant = (
                f" under grant {_short(data.emergency_access_id)}"
                if data.emergency_access_id
                else ""
            )
            return f"{data.record} ({data.access}) for {data.purpose}{grant}: {data.outcome}"
        case EmergencyAccessGranted():
            return (
                f"Emergency access granted until {data.expires_at.isoformat()} "
                f"({_short(data.grant_id)}): {data.reason}"
            )
    return data.event_type
