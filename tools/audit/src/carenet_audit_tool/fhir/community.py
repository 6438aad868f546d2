"""The community's events: cases, follow-ups, emergencies, the care team, family, peers."""

from __future__ import annotations

from typing import Any

from carenet_audit_tool.fhir.export import (
    V3_ACT_CODE,
    coded,
    instant,
    text,
)
from carenet_audit_tool.fhir.pathway import (
    VISIT_CLASS,
    Pathway,
    Ref,
    close_open_activity,
    day,
    episode_ref,
    maps,
    move_task,
    ref_of,
    schedule,
)
from carenet_contracts import Envelope
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
    FollowUpOverdue,
    FollowUpScheduled,
    LostToFollowUp,
    LostToFollowUpWithdrawn,
    ReferralRequested,
    ReferralWithdrawn,
    RehabilitationSessionAttended,
    VisitCompleted,
)
from carenet_contracts.common import MedicationAdherence

# casework: the case and its follow-ups ------------------------------------------------------


@maps(CaseOpened)
def case_opened(p: Pathway, e: Envelope[Any], d: CaseOpened) -> list[Ref]:
    opened = instant(e.occurred_at)
    p.episode(d.case_id).update(
        status="active",
        statusHistory=[{"status": "active", "period": {"start": opened}}],
        type=[coded("episode-type", "community-management", "Community management")],
        patient=p.patient,
        managingOrganization=p.organisation(d.center_id),
        period={"start": opened},
        diagnosis=[{"condition": c} for c in p.conditions],
        team=[p.team_ref()],
    )
    p.open_cases[d.center_id] = str(d.case_id)
    plan = p.care_plan(d.case_id)
    plan.update(
        period={"start": opened},
        author=p.organisation(d.center_id),
        addresses=list(p.conditions),
    )
    p.care_team().setdefault("managingOrganization", [])
    if p.organisation(d.center_id) not in p.care_team()["managingOrganization"]:
        p.care_team()["managingOrganization"].append(p.organisation(d.center_id))
    return [
        episode_ref(p, d.case_id),
        schedule(p, d.case_id, d.first_visit_due, "first visit"),
        ref_of(p, "CareTeam", "care-team", p.patient_id),
    ]


@maps(CaseManagerAssigned)
def case_manager(p: Pathway, e: Envelope[Any], d: CaseManagerAssigned) -> list[Ref]:
    p.episode(d.case_id)["careManager"] = p.staff(d.case_manager_id)
    return [episode_ref(p, d.case_id)]


@maps(VisitCompleted)
def visit(p: Pathway, e: Envelope[Any], d: VisitCompleted) -> list[Ref]:
    code, display = VISIT_CLASS[d.mode]
    visit_ref = ref_of(p, "Encounter", "visit", d.visit_id)
    p.resource("Encounter", "visit", str(d.visit_id)).update(
        status="finished",
        type=[coded("encounter-type", "follow-up-visit", "Follow-up visit")],
        subject=p.patient,
        episodeOfCare=[episode_ref(p, d.case_id)],
        participant=[{"individual": p.staff(d.case_manager_id)}],
        period={"start": day(d.visited_on), "end": day(d.visited_on)},
        serviceProvider=p.organisation(d.center_id),
        **{"class": {"system": V3_ACT_CODE, "code": code, "display": display}},
    )
    close_open_activity(p, d.case_id, "completed")
    for activity in p.care_plan(d.case_id)["activity"]:
        if activity["detail"]["status"] == "completed" and "outcomeReference" not in activity:
            activity["outcomeReference"] = [visit_ref]
    plan = schedule(p, d.case_id, d.next_follow_up_due, f"after a {d.classification} visit")
    return [visit_ref, plan, *medication_adherence(p, d, visit_ref)]


def medication_adherence(p: Pathway, d: VisitCompleted, visit_ref: Ref) -> list[Ref]:
    """What the visit found about the medication: an Observation (none for a visit recorded
    before adherence was asked), the reason for taking it otherwise as a component."""
    if d.medication_adherence is MedicationAdherence.NOT_RECORDED:
        return []
    observation = p.resource("Observation", "medication-adherence", str(d.visit_id))
    observation.update(
        status="final",
        code=coded("observation", "medication-adherence", "Medication adherence"),
        subject=p.patient,
        encounter=visit_ref,
        effectiveDateTime=day(d.visited_on),
        valueCodeableConcept=coded("medication-adherence", d.medication_adherence.value),
    )
    if d.nonadherence_reason is not None:
        observation["component"] = [
            {
                "code": coded("observation", "nonadherence-reason", "Why not as prescribed"),
                "valueCodeableConcept": coded("nonadherence-reason", d.nonadherence_reason.value),
            }
        ]
    return [ref_of(p, "Observation", "medication-adherence", d.visit_id)]


@maps(FollowUpScheduled)
def follow_up_scheduled(p: Pathway, e: Envelope[Any], d: FollowUpScheduled) -> list[Ref]:
    return [schedule(p, d.case_id, d.due_on, d.reason)]


@maps(FirstVisitOverdue)
def first_visit_overdue(p: Pathway, e: Envelope[Any], d: FirstVisitOverdue) -> list[Ref]:
    for activity in p.care_plan(d.case_id)["activity"]:
        if activity["detail"]["status"] == "scheduled":
            activity["detail"]["statusReason"] = text(f"overdue since {day(d.due_on)}")
    return [ref_of(p, "CarePlan", "follow-up-plan", d.case_id)]


@maps(FollowUpOverdue)
def follow_up_overdue(p: Pathway, e: Envelope[Any], d: FollowUpOverdue) -> list[Ref]:
    close_open_activity(p, d.case_id, "stopped", statusReason=text("missed"))
    return [schedule(p, d.case_id, d.rescheduled_to, f"rescheduled after {day(d.due_on)}")]


@maps(LostToFollowUp)
def lost(p: Pathway, e: Envelope[Any], d: LostToFollowUp) -> list[Ref]:
    last = day(max(d.missed_due_dates))
    p.resource("Flag", "lost-to-follow-up", f"{d.case_id}/{last}").update(
        status="active",
        category=[coded("flag-category", "follow-up")],
        code=coded("flag", "lost-to-follow-up", "Lost to follow-up"),
        subject=p.patient,
        period={"start": instant(e.occurred_at)},
        author=p.organisation(d.center_id),
    )
    return [ref_of(p, "Flag", "lost-to-follow-up", f"{d.case_id}/{last}")]


@maps(LostToFollowUpWithdrawn)
def lost_withdrawn(p: Pathway, e: Envelope[Any], d: LostToFollowUpWithdrawn) -> list[Ref]:
    """A late record showed the misses were no run: the flag was raised in error."""
    last = day(max(d.missed_due_dates))
    p.resource("Flag", "lost-to-follow-up", f"{d.case_id}/{last}").update(status="entered-in-error")
    return [ref_of(p, "Flag", "lost-to-follow-up", f"{d.case_id}/{last}")]


@maps(CaseClosed)
def case_closed(p: Pathway, e: Envelope[Any], d: CaseClosed) -> list[Ref]:
    closed = instant(e.occurred_at)
    episode = p.episode(d.case_id)
    history = episode.setdefault("statusHistory", [])
    for stint in history:
        stint["period"].setdefault("end", closed)
    history.append({"status": "finished", "period": {"start": closed}})
    episode.update(status="finished", period={**episode.get("period", {}), "end": closed})
    if p.open_cases.get(d.center_id) == str(d.case_id):
        del p.open_cases[d.center_id]
    close_open_activity(p, d.case_id, "cancelled", statusReason=text("case closed"))
    plan = p.care_plan(d.case_id)
    plan.update(status="completed", period={**plan.get("period", {}), "end": closed})
    return [
        episode_ref(p, d.case_id),
        ref_of(p, "CarePlan", "follow-up-plan", d.case_id),
    ]


# casework: referrals, emergencies, team, family, rehabilitation -----------------------------


@maps(ReferralRequested)
def referral_requested(p: Pathway, e: Envelope[Any], d: ReferralRequested) -> list[Ref]:
    task = p.task(d.referral_id)
    task.update(
        authoredOn=instant(e.occurred_at),
        requester=p.organisation(d.center_id),
        reasonCode=coded("referral-reason", d.reason),
    )
    task.setdefault("businessStatus", coded("referral-status", "requested"))
    if p.conditions:
        task["reasonReference"] = p.conditions[-1]
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(ReferralWithdrawn)
def referral_withdrawn(p: Pathway, e: Envelope[Any], d: ReferralWithdrawn) -> list[Ref]:
    move_task(p.task(d.referral_id), "cancelled", "withdrawn", d.reason)
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(EmergencyRecorded)
def emergency(p: Pathway, e: Envelope[Any], d: EmergencyRecorded) -> list[Ref]:
    p.resource("Encounter", "emergency", str(d.emergency_id)).update(
        status="finished",
        type=[coded("encounter-type", "emergency-handling", "Emergency handling")],
        subject=p.patient,
        episodeOfCare=[episode_ref(p, d.case_id)],
        participant=[{"individual": p.staff(d.handled_by)}],
        period={"start": instant(d.occurred_at)},
        reasonCode=[coded("emergency-kind", d.kind, d.kind.replace("_", " "))],
        serviceProvider=p.organisation(d.center_id),
        **{"class": {"system": V3_ACT_CODE, "code": "EMER", "display": "emergency"}},
    )
    return [ref_of(p, "Encounter", "emergency", d.emergency_id)]


@maps(CareTeamMemberJoined)
def member_joined(p: Pathway, e: Envelope[Any], d: CareTeamMemberJoined) -> list[Ref]:
    p.care_team()["participant"].append(
        {
            "role": [coded("care-team-role", d.role, d.role.replace("_", " "))],
            "member": p.member(d.member_id, d.role),
            "period": {"start": instant(e.occurred_at)},
        }
    )
    return [ref_of(p, "CareTeam", "care-team", p.patient_id)]


@maps(CareTeamMemberLeft)
def member_left(p: Pathway, e: Envelope[Any], d: CareTeamMemberLeft) -> list[Ref]:
    member = p.member(d.member_id, d.role)
    for participant in p.care_team()["participant"]:
        same_role = participant["role"][0]["coding"][0]["code"] == d.role
        if participant["member"] == member and same_role and "end" not in participant["period"]:
            participant["period"]["end"] = instant(e.occurred_at)
    return [ref_of(p, "CareTeam", "care-team", p.patient_id)]


@maps(FamilyMemberLinked)
def family_linked(p: Pathway, e: Envelope[Any], d: FamilyMemberLinked) -> list[Ref]:
    relationship = [text(d.relationship)]
    if d.is_guardian:
        relationship.insert(
            0,
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "GUARD",
                        "display": "guardian",
                    }
                ]
            },
        )
    reference = p.relative(d.member_id)
    p.resource("RelatedPerson", "relative", d.member_id).update(
        active=True, relationship=relationship, period={"start": instant(e.occurred_at)}
    )
    return [reference]


@maps(FamilyConsentWithdrawn)
def consent_withdrawn(p: Pathway, e: Envelope[Any], d: FamilyConsentWithdrawn) -> list[Ref]:
    reference = p.relative(d.member_id)
    person = p.resource("RelatedPerson", "relative", d.member_id)
    person.update(active=False, period={**person.get("period", {}), "end": instant(e.occurred_at)})
    return [reference]


@maps(RehabilitationSessionAttended)
def session(p: Pathway, e: Envelope[Any], d: RehabilitationSessionAttended) -> list[Ref]:
    value = f"{d.session_id}/{p.patient_id}"
    attendance = p.resource("Encounter", "rehabilitation-attendance", value)
    attendance.update(
        status="finished",
        type=[coded("encounter-type", d.kind, d.kind.replace("_", " "))],
        reasonCode=[text(d.topic)],
        subject=p.patient,
        participant=[{"individual": p.staff(d.facilitator_id)}],
        period={"start": day(d.held_on), "end": day(d.held_on)},
        length={
            "value": d.duration_minutes,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        },
        serviceProvider=p.organisation(d.center_id),
        **{"class": {"system": V3_ACT_CODE, "code": "AMB", "display": "ambulatory"}},
    )
    case_id = p.open_cases.get(d.center_id)
    if case_id is not None:
        attendance["episodeOfCare"] = [episode_ref(p, case_id)]
    return [p.ref("Encounter", "rehabilitation-attendance", value)]
