"""The one authorisation policy: who may do what to which patient.

An actor stands in some relation to a patient (`Standing`), read from the events: the hospital
that diagnosed, admitted or was referred the patient, the community health center the patient
is routed to, a member of the care team, a relative with consent, a clinician holding an open
break-the-glass grant, or a network-wide role (auditor, operator). What each role may do in
each standing is the table `PERMISSIONS`, and nothing else grants anything.

Three outcomes: granted; forbidden (403), when the actor stands in a relation to the patient
but the role may not do this; hidden (404), when the actor has no relation at all, answered
exactly as for a patient that does not exist, so that a foreign organisation learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from carenet_access.relations import PatientRelations
from carenet_contracts.access import AccessPurpose
from carenet_kit.auth import Actor


class Role(StrEnum):
    CLINICIAN = "clinician"
    """A doctor of a certified hospital."""
    COMMUNITY_DOCTOR = "community_doctor"
    SOCIAL_WORKER = "social_worker"
    FAMILY_MEMBER = "family_member"
    PEER_SUPPORTER = "peer_supporter"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    """Runs the platform: the manual routing queue, failed deliveries, erasure requests."""
    CENTER_LEAD = "center_lead"
    """Leads a community health center: its indicators (aggregate only), its escalations."""
    NETWORK_LEAD = "network_lead"
    """Leads the network (a health commission): every center's indicators, aggregate only."""
    PARTNER_STAFF = "partner_staff"
    """Works at a social-service partner: sees the referrals to it, no patient's record."""


class Access(StrEnum):
    READ_ROUTE = "read-route"
    """Where the patient is routed: residence area, center, deadline of the manual queue."""
    READ_IDENTITY = "read-identity"
    """Who the patient is and how to reach them: name, national ID, phone, address."""
    READ_CARE = "read-care"
    """The care record: diagnoses, route, case, follow-ups, care team, relatives, referrals."""
    RECORD_CARE = "record-care"
    """Add to the care record: diagnoses, admissions, visits, referrals, the care team."""
    ROUTE = "route"
    """Route the patient by hand, or record a move to another residence."""
    ERASE = "erase"
    """Erase the patient's personal data on a legal basis."""


class Standing(StrEnum):
    HOSPITAL = "hospital"
    CENTER = "center"
    CARE_TEAM = "care-team"
    FAMILY = "family"
    EMERGENCY = "emergency"
    NETWORK = "network"


READS = frozenset({Access.READ_ROUTE, Access.READ_IDENTITY, Access.READ_CARE})
CARE = READS | {Access.RECORD_CARE}

PERMISSIONS: dict[tuple[Role, Standing], frozenset[Access]] = {
    (Role.CLINICIAN, Standing.HOSPITAL): CARE,
    (Role.COMMUNITY_DOCTOR, Standing.CENTER): CARE | {Access.ROUTE},
    (Role.SOCIAL_WORKER, Standing.CENTER): CARE | {Access.ROUTE},
    (Role.COMMUNITY_DOCTOR, Standing.CARE_TEAM): frozenset({Access.READ_ROUTE, Access.READ_CARE}),
    (Role.SOCIAL_WORKER, Standing.CARE_TEAM): frozenset({Access.READ_ROUTE, Access.READ_CARE}),
    (Role.FAMILY_MEMBER, Standing.FAMILY): frozenset({Access.READ_CARE}),
    (Role.CLINICIAN, Standing.EMERGENCY): READS,
    (Role.COMMUNITY_DOCTOR, Standing.EMERGENCY): READS,
    (Role.AUDITOR, Standing.NETWORK): READS,
    (Role.OPERATOR, Standing.NETWORK): frozenset({Access.READ_ROUTE, Access.ROUTE, Access.ERASE}),
}
"""Everything any role may do in any standing. A peer supporter may read no patient's record,
nor may a partner's staff (they read what a referral to their organisation shares)."""

NETWORK_ROLES = frozenset({Role.AUDITOR, Role.OPERATOR})
EMERGENCY_ROLES = frozenset({Role.CLINICIAN, Role.COMMUNITY_DOCTOR})
"""Who may break the glass."""

ANY_PART = "*"
"""A relative may read what their consent covers, whatever it is: the endpoint shows only that."""

PURPOSE: dict[Standing, AccessPurpose] = {
    Standing.EMERGENCY: "emergency",
    Standing.NETWORK: "operations",
}


class Outcome(StrEnum):
    GRANTED = "granted"
    FORBIDDEN = "forbidden"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    purpose: AccessPurpose = "care"
    emergency_access_id: UUID | None = None

    @property
    def granted(self) -> bool:
        return self.outcome is Outcome.GRANTED


def standings(actor: Actor, relations: PatientRelations, now: datetime) -> list[Standing]:
    """Every relation in which the actor stands to the patient."""
    found = []
    if actor.organisation in relations.hospitals:
        found.append(Standing.HOSPITAL)
    if actor.organisation == relations.center:
        found.append(Standing.CENTER)
    if relations.on_care_team(actor.subject):
        found.append(Standing.CARE_TEAM)
    if relations.consented_parts(actor.subject) is not None:
        found.append(Standing.FAMILY)
    if relations.open_grant(actor.subject, actor.organisation, now) is not None:
        found.append(Standing.EMERGENCY)
    if actor.role in NETWORK_ROLES:
        found.append(Standing.NETWORK)
    return found


def decide(
    actor: Actor,
    access: Access,
    relations: PatientRelations | None,
    now: datetime,
    part: str | None = None,
) -> Decision:
    """May `actor` have `access` to the patient with these relations (None: unknown patient)?

    `part` names the part of the record a relative's consent must cover ('appointments',
    'visits', 'risk', 'emergencies', or `ANY_PART`); without it no relative may read.
    """
    if relations is None:
        return Decision(Outcome.HIDDEN)
    held = standings(actor, relations, now)
    if not held:
        return Decision(Outcome.HIDDEN)
    role = _role(actor)
    for standing in held:
        if role is None or access not in PERMISSIONS.get((role, standing), frozenset()):
            continue
        if standing is Standing.FAMILY and not _covers(
            relations.consented_parts(actor.subject), part
        ):
            continue
        purpose = "audit" if actor.role == Role.AUDITOR else PURPOSE.get(standing, "care")
        grant = relations.open_grant(actor.subject, actor.organisation, now)
        return Decision(Outcome.GRANTED, purpose, grant if standing is Standing.EMERGENCY else None)
    return Decision(Outcome.FORBIDDEN)


def _covers(consented: frozenset[str] | None, part: str | None) -> bool:
    return consented is not None and part is not None and (part == ANY_PART or part in consented)


def _role(actor: Actor) -> Role | None:
    try:
        return Role(actor.role)
    except ValueError:
        return None
