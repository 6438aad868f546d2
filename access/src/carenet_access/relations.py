"""How each actor stands to a patient, folded from the network's own integration events.

Who diagnosed or admitted the patient (intake), where the patient is routed and which hospital
a referral went to (routing), who is on the care team and which relatives hold consent with
which scope (casework), and which break-the-glass grants are open (audit). Nothing here is
configured by hand: the events are the only source.

This is who may see the patient. Whom notifications tells is a circle of its own, folded in its
own order with facts this one lacks (`carenet_notifications.domain.patient` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from carenet_contracts import Envelope, Payload
from carenet_contracts.audit import EmergencyAccessGranted
from carenet_contracts.casework import (
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    FamilyConsentWithdrawn,
    FamilyMemberLinked,
    ReferralRequested,
)
from carenet_contracts.intake import DiagnosisRecorded, PatientAdmitted
from carenet_contracts.routing import PatientRouted, PatientTransferred, ReferralIssued


@dataclass(frozen=True)
class EmergencyGrant:
    grant_id: UUID
    reader_id: str
    reader_organisation: str
    expires_at: datetime


@dataclass
class PatientRelations:
    """The patient's care network as the events tell it."""

    hospitals: set[str] = field(default_factory=set)
    """Organisations that diagnosed, were referred or admitted the patient."""
    center: str | None = None
    """The community health center the patient is routed to now."""
    teams: dict[UUID, set[str]] = field(default_factory=dict)
    """Care-team members (case manager included) of each open case."""
    family: dict[UUID, dict[str, frozenset[str]]] = field(default_factory=dict)
    """Relatives with consent, per open case: member id -> the parts of the record they may see."""
    withdrawn_at: dict[str, datetime] = field(default_factory=dict)
    """When each relative's consent was last withdrawn, as it happened (not as recorded)."""
    grants: list[EmergencyGrant] = field(default_factory=list)

    def on_care_team(self, member_id: str) -> bool:
        return any(member_id in team for team in self.teams.values())

    def consented_parts(self, member_id: str) -> frozenset[str] | None:
        """What a relative may see, or None without consent (never linked, or withdrawn)."""
        scopes = [family[member_id] for family in self.family.values() if member_id in family]
        return frozenset().union(*scopes) if scopes else None

    def open_grant(self, reader_id: str, organisation: str, now: datetime) -> UUID | None:
        for grant in self.grants:
            if (grant.reader_id, grant.reader_organisation) == (reader_id, organisation) and (
                now < grant.expires_at
            ):
                return grant.grant_id
        return None


@dataclass
class CareNetwork:
    """Every patient's relations, and which patient each case and referral is about."""

    patients: dict[UUID, PatientRelations] = field(default_factory=dict)
    cases: dict[UUID, UUID] = field(default_factory=dict)
    referrals: dict[UUID, UUID] = field(default_factory=dict)

    def relations(self, patient_id: UUID) -> PatientRelations | None:
        return self.patients.get(patient_id)

    def apply(self, envelope: Envelope[Payload]) -> None:
        """Take in one event; events that say nothing about access change nothing."""
        data, patient_id = envelope.data, envelope.patient_id
        if not isinstance(data, RELEVANT):
            return
        relations = self.patients.setdefault(patient_id, PatientRelations())
        match data:
            case ReferralIssued() | ReferralRequested():
                self.referrals[data.referral_id] = patient_id
            case CaseOpened():
                self.cases[data.case_id] = patient_id
        _where(relations, data)
        _who(relations, data, envelope.occurred_at)


def _where(r: PatientRelations, data: Payload) -> None:
    """The organisations: hospitals, the center, and emergency grants."""
    match data:
        case DiagnosisRecorded(hospital_id=hospital) | PatientAdmitted(hospital_id=hospital):
            r.hospitals.add(hospital)
        case ReferralIssued(hospital_id=hospital):
            r.hospitals.add(hospital)
        case PatientRouted():
            r.center = data.center_id
            r.hospitals.add(data.diagnosing_hospital_id)
        case PatientTransferred():
            r.center = data.to_center_id
        case EmergencyAccessGranted():
            grant = EmergencyGrant(
                data.grant_id, data.reader_id, data.reader_organisation, data.expires_at
            )
            r.grants.append(grant)


def _who(r: PatientRelations, data: Payload, occurred_at: datetime) -> None:
    """The people of each open case: the care team and the relatives with consent.

    A consent that happened before the relative's last withdrawal grants nothing, however
    late it was recorded: an older "yes" never undoes a newer "no"."""
    match data:
        case CaseOpened():
            r.teams.setdefault(data.case_id, set())
        case CaseManagerAssigned():
            team = r.teams.setdefault(data.case_id, set())
            team.discard(data.previous_case_manager_id or "")
            team.add(data.case_manager_id)
        case CareTeamMemberJoined():
            r.teams.setdefault(data.case_id, set()).add(data.member_id)
        case CareTeamMemberLeft():
            r.teams.setdefault(data.case_id, set()).discard(data.member_id)
        case FamilyMemberLinked() if occurred_at >= r.withdrawn_at.get(data.member_id, occurred_at):
            r.family.setdefault(data.case_id, {})[data.member_id] = frozenset(data.scope.may_see)
        case FamilyConsentWithdrawn():
            r.family.get(data.case_id, {}).pop(data.member_id, None)
            r.withdrawn_at[data.member_id] = max(
                occurred_at, r.withdrawn_at.get(data.member_id, occurred_at)
            )
        case CaseClosed():
            r.teams.pop(data.case_id, None)
            r.family.pop(data.case_id, None)


RELEVANT = (
    DiagnosisRecorded,
    PatientAdmitted,
    PatientRouted,
    PatientTransferred,
    ReferralIssued,
    ReferralRequested,
    CaseOpened,
    CaseManagerAssigned,
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    FamilyMemberLinked,
    FamilyConsentWithdrawn,
    CaseClosed,
    EmergencyAccessGranted,
)
"""The events that change who may see a patient."""
