"""Who may call each operation of the five services, written from the rules (architecture.md,
"Access"; README, "Who may see what"), for the authorisation matrix to hold the services to.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = (
    "clinician",
    "community_doctor",
    "social_worker",
    "family_member",
    "peer_supporter",
    "auditor",
    "operator",
    "partner_staff",
    "center_lead",
    "network_lead",
)
READS = {
    "read-identity": {"clinician", "community_doctor", "social_worker", "auditor"},
    "read-care": {"clinician", "community_doctor", "social_worker", "auditor"},
    "read-route": {"clinician", "community_doctor", "social_worker", "auditor", "operator"},
}
WRITES = {
    "record-care": {"clinician", "community_doctor", "social_worker"},
    "route": {"community_doctor", "social_worker", "operator"},
    "erase": {"operator"},
}
NETWORK_ROLES = {"auditor", "operator"}
UNRELATED_ROLES = {"partner_staff", "network_lead"}
"""Roles that stand in no relation to any patient: a partner's staff, the network's lead."""
CENTER_ROLES = {"community_doctor", "social_worker", "peer_supporter"}
EVERYONE = frozenset(ROLES)


@dataclass(frozen=True)
class Rule:
    """Who may call an operation: a patient's record (`READS`, `WRITES`: by relation to the
    patient, and role), an organisation's own lists (`organisation`: by role, for one's own
    organisation), or by role alone (`roles`)."""

    kind: str
    roles: frozenset[str] = frozenset()
    family_part: bool = False
    """A read of the part of the record a relative's consent covers."""


def roles(*names: str) -> Rule:
    return Rule("roles", frozenset(names))


def organisation(*names: str) -> Rule:
    return Rule("organisation", frozenset(names))


ACCESS = {
    # intake: a certified hospital's clinicians register, diagnose, admit and discharge;
    # the network's operators carry out erasure
    "POST intake/v1/patients": roles("clinician"),
    "POST intake/v1/patients/{patient_id}/diagnoses": Rule("record-care"),
    "GET intake/v1/patients/{patient_id}": Rule("read-identity"),
    "GET intake/v1/hospitals/{hospital_id}/patients": organisation("clinician"),
    "GET intake/v1/referrals": roles("clinician"),
    "POST intake/v1/referrals/{referral_id}/accept": Rule("record-care"),
    "POST intake/v1/referrals/{referral_id}/decline": Rule("record-care"),
    "POST intake/v1/patients/{patient_id}/admissions": Rule("record-care"),
    "POST intake/v1/patients/{patient_id}/discharge": Rule("record-care"),
    "GET intake/v1/hospitals/{hospital_id}/inpatients": organisation("clinician"),
    "POST intake/v1/erasure-requests": roles("operator"),
    # routing: where a patient is managed; the directory is read by all, kept by operators
    "GET routing/v1/routes/{patient_id}": Rule("read-route"),
    "GET routing/v1/routing-queue": roles("operator"),
    "POST routing/v1/routes/{patient_id}/manual": Rule("route"),
    "POST routing/v1/routes/{patient_id}/residence": Rule("route"),
    "GET routing/v1/referrals/{referral_id}": Rule("read-care"),
    "GET routing/v1/referrals": roles("community_doctor", "social_worker"),
    "GET routing/v1/directory": Rule("roles", EVERYONE),
    "GET routing/v1/directory/centers": Rule("roles", EVERYONE),
    "POST routing/v1/directory/centers": roles("operator"),
    "GET routing/v1/directory/centers/{center_id}": Rule("roles", EVERYONE),
    "GET routing/v1/directory/hospitals/{hospital_id}": Rule("roles", EVERYONE),
    "POST routing/v1/directory/hospitals": roles("operator"),
    "PUT routing/v1/directory/hospitals/{hospital_id}/certification": roles("operator"),
    "POST routing/v1/directory/centers/{center_id}/catchment": roles("operator"),
    "POST routing/v1/directory/centers/{center_id}/catchment/{region_code}/remove": roles(
        "operator"
    ),
    "POST routing/v1/directory/catchment-handovers": roles("operator"),
    "POST routing/v1/directory/centers/{center_id}/staff": roles("operator"),
    "POST routing/v1/directory/centers/{center_id}/staff/{staff_id}/leave": roles("operator"),
    # casework: the center's care of the patient; a list shows each caller what they may see
    "GET casework/v1/cases": Rule("roles", EVERYONE),
    "GET casework/v1/cases/{case_id}": Rule("read-care"),
    "GET casework/v1/cases/{case_id}/contact": Rule("read-identity"),
    "POST casework/v1/cases/{case_id}/visits": Rule("record-care"),
    "POST casework/v1/cases/{case_id}/emergencies": Rule("record-care"),
    "POST casework/v1/cases/{case_id}/referrals/{referral_id}/withdrawal": Rule("record-care"),
    "GET casework/v1/patients/{patient_id}/care-team": Rule("read-care"),
    "POST casework/v1/patients/{patient_id}/care-team": Rule("record-care"),
    "DELETE casework/v1/patients/{patient_id}/care-team/{member_id}": Rule("record-care"),
    "POST casework/v1/cases/{case_id}/case-manager": Rule("record-care"),
    "POST casework/v1/patients/{patient_id}/family": Rule("record-care"),
    "GET casework/v1/patients/{patient_id}/family": Rule("read-care"),
    "POST casework/v1/patients/{patient_id}/family/{member_id}/withdraw": Rule("record-care"),
    "GET casework/v1/patients/{patient_id}/family/{member_id}/view": Rule(
        "read-care", family_part=True
    ),
    "POST casework/v1/centers/{center_id}/sessions": organisation(*CENTER_ROLES),
    "POST casework/v1/sessions/{session_id}/attendance": roles(*CENTER_ROLES),
    "GET casework/v1/sessions/{session_id}": roles(*CENTER_ROLES),
    "GET casework/v1/patients/{patient_id}/sessions": Rule("read-care"),
    # screening: a patient's is care on the record; a resident's, the center's own
    "POST casework/v1/patients/{patient_id}/screenings": Rule("record-care"),
    "GET casework/v1/patients/{patient_id}/screenings": Rule("read-care"),
    "POST casework/v1/centers/{center_id}/screenings": organisation(
        "community_doctor", "social_worker"
    ),
    "GET casework/v1/centers/{center_id}/screenings": organisation(
        "community_doctor", "social_worker"
    ),
    # the recovery plan: care on the record
    "POST casework/v1/patients/{patient_id}/recovery-plan": Rule("record-care"),
    "PUT casework/v1/patients/{patient_id}/recovery-plan": Rule("record-care"),
    "POST casework/v1/patients/{patient_id}/recovery-plan/goals/{goal_id}/reviews": Rule(
        "record-care"
    ),
    "GET casework/v1/patients/{patient_id}/recovery-plan": Rule("read-care"),
    # prevention and education: the center's own work, counted without persons
    "POST casework/v1/centers/{center_id}/prevention-activities": organisation(*CENTER_ROLES),
    "GET casework/v1/centers/{center_id}/prevention-activities": organisation(*CENTER_ROLES),
    # social services: the referral is care on the record; a partner's staff see the referrals
    # to their own organisation, and no patient's record
    "POST casework/v1/patients/{patient_id}/social-referrals": Rule("record-care"),
    "GET casework/v1/patients/{patient_id}/social-referrals": Rule("read-care"),
    "POST casework/v1/patients/{patient_id}/social-referrals/{social_referral_id}/end": Rule(
        "record-care"
    ),
    "GET casework/v1/partners": Rule("roles", EVERYONE),
    "GET casework/v1/partners/{partner_id}/referrals": organisation("partner_staff"),
    "GET casework/v1/partners/{partner_id}/referrals/{social_referral_id}": organisation(
        "partner_staff"
    ),
    "POST casework/v1/partners/{partner_id}/referrals/{social_referral_id}/answer": organisation(
        "partner_staff"
    ),
    "POST casework/v1/partners/{partner_id}/referrals/{social_referral_id}/start": organisation(
        "partner_staff"
    ),
    "POST casework/v1/partners/{partner_id}/referrals/{social_referral_id}/end": organisation(
        "partner_staff"
    ),
    # a center's staff: kept by its lead, read by its staff
    "PUT casework/v1/centers/{center_id}/staff-roster": organisation("center_lead"),
    "POST casework/v1/centers/{center_id}/trainings": organisation("center_lead"),
    "GET casework/v1/centers/{center_id}/staffing": organisation(
        "center_lead", "social_worker", "community_doctor"
    ),
    # the network's indicators: aggregate only, for the leads and the auditors
    "GET casework/v1/indicators": roles("center_lead", "network_lead", "auditor"),
    "GET casework/v1/indicators.csv": roles("center_lead", "network_lead", "auditor"),
    "GET casework/v1/indicators/page": roles("center_lead", "network_lead", "auditor"),
    # notifications: everyone has an inbox and subscriptions of their own; failed deliveries
    # are the operators'
    "GET notifications/v1/inbox": Rule("roles", EVERYONE),
    "GET notifications/v1/inbox/{notification_id}": Rule("roles", EVERYONE),
    "POST notifications/v1/inbox/{notification_id}/acknowledgement": Rule("roles", EVERYONE),
    "POST notifications/v1/subscriptions": Rule("roles", EVERYONE),
    "GET notifications/v1/subscriptions": Rule("roles", EVERYONE),
    "DELETE notifications/v1/subscriptions/{subscription_id}": Rule("roles", EVERYONE),
    "GET notifications/v1/deliveries/failed": roles("operator"),
    "POST notifications/v1/deliveries/{delivery_id}/redelivery": roles("operator"),
    # audit: auditors read histories; clinicians and community doctors break the glass
    "POST audit/v1/patient-histories": roles("auditor"),
    "POST audit/v1/emergency-accesses": roles("clinician", "community_doctor"),
}
"""Every operation of the five services, and who may call it."""
