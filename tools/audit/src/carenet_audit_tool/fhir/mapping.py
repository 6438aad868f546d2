"""Each CareNet integration event as what it changes in the patient's FHIR resources.

A handler gets the export so far and one event, changes or creates resources, and returns the
references of the resources it touched: the event becomes their Provenance. Events are fed in
the order the network learnt them, each producer's stream in its own sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from carenet_audit_tool.fhir.export import (
    EVENT_SYSTEM,
    ICD10,
    V3_ACT_CODE,
    Export,
    coded,
    instant,
    text,
)
from carenet_contracts import Envelope, Payload
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
    ReferralRequested,
    ReferralWithdrawn,
    RehabilitationSessionAttended,
    VisitCompleted,
)
from carenet_contracts.common import CareTeamRole, VisitMode
from carenet_contracts.intake import (
    DiagnosisRecorded,
    PatientAdmitted,
    PatientDischarged,
    ReferralAccepted,
    ReferralDeclined,
)
from carenet_contracts.notifications import (
    NotificationAcknowledged,
    NotificationDelivered,
    NotificationEscalated,
    NotificationFailed,
)
from carenet_contracts.routing import (
    PatientRouted,
    PatientTransferred,
    ReferralCancelled,
    ReferralEscalated,
    ReferralIssued,
)

Ref = dict[str, Any]
P = TypeVar("P", bound=Payload)
Handler = Callable[["Pathway", Envelope[Any], P], list[Ref]]

HANDLERS: dict[type[Payload], Handler[Any]] = {}

UNMAPPED: dict[str, str] = {
    "ReportingDeadlineMissed": "a reporting-compliance finding about the hospital, not care",
    "RoutingPending": "the network's manual routing queue; no care relationship exists yet",
    "ManualRoutingOverdue": "the network's manual routing queue; no care relationship exists yet",
    "FollowUpsBelowYearlyMinimum": "a yearly compliance measure over the case, not a care fact",
    "PatientHistoryRead": "CareNet's own audit trail; it stays with the auditors",
}
"""Event types with no FHIR counterpart in a clinical export, and why."""

RELATIVE_ROLES = frozenset({CareTeamRole.FAMILY_MEMBER, CareTeamRole.GUARDIAN})
VISIT_CLASS = {
    VisitMode.CLINIC: ("AMB", "ambulatory"),
    VisitMode.HOME: ("HH", "home health"),
    VisitMode.PHONE: ("VR", "virtual"),
}
REFERRAL = {
    "coding": [{"system": "http://snomed.info/sct", "code": "3457005"}],
    "text": "Referral to hospital",
}


def maps(kind: type[P]) -> Callable[[Handler[P]], Handler[P]]:
    def register(handler: Handler[P]) -> Handler[P]:
        HANDLERS[kind] = handler
        return handler

    return register


class Pathway(Export):
    """The export plus what the mapping needs to remember between events."""

    def __init__(self, patient_id: UUID) -> None:
        super().__init__(patient_id)
        self.conditions: list[Ref] = []
        self.open_cases: dict[str, str] = {}
        """center id -> the case open there."""

    def episode(self, case_id: UUID | str) -> dict[str, Any]:
        """The case's episode; valid even when the history starts after its opening."""
        episode = self.resource("EpisodeOfCare", "case", str(case_id))
        episode.setdefault("status", "active")
        episode.setdefault("patient", self.patient)
        return episode

    def team_ref(self) -> Ref:
        self.care_team()
        return self.ref("CareTeam", "care-team", str(self.patient_id))

    def care_plan(self, case_id: UUID | str) -> dict[str, Any]:
        plan = self.resource("CarePlan", "follow-up-plan", str(case_id))
        if "status" not in plan:
            plan.update(
                status="active",
                intent="plan",
                title="Community follow-up",
                subject=self.patient,
                careTeam=[self.team_ref()],
                activity=[],
            )
        return plan

    def care_team(self) -> dict[str, Any]:
        team = self.resource("CareTeam", "care-team", str(self.patient_id))
        if "status" not in team:
            team.update(
                status="active",
                name="Care and assistance team",
                subject=self.patient,
                participant=[],
            )
        return team

    def task(self, referral_id: UUID) -> dict[str, Any]:
        task = self.resource("Task", "referral", str(referral_id))
        if "status" not in task:
            task.update(status="requested", intent="order", code=REFERRAL, **{"for": self.patient})
        return task

    def notification(self, notification_id: UUID) -> dict[str, Any]:
        message = self.resource("Communication", "notification", str(notification_id))
        if "status" not in message:
            message.update(status="in-progress", subject=self.patient, medium=[])
        return message

    def about_event(self, message: dict[str, Any], event_id: UUID, event_type: str) -> None:
        """What a notification was about: the resources that event made, else the event."""
        message["about"] = self.targets_of(event_id) or [
            {"identifier": {"system": EVENT_SYSTEM, "value": str(event_id)}}
        ]
        message["topic"] = coded("event-type", event_type)

    def member(self, member_id: str, role: CareTeamRole) -> Ref:
        return self.relative(member_id) if role in RELATIVE_ROLES else self.staff(member_id)

    def recipient(self, recipient: str) -> Ref:
        """`staff:<id>`, `family:<member id>`, `role:<org>/<role>`, `center:<id>`."""
        kind, _, value = recipient.partition(":")
        if kind == "staff":
            return self.staff(value)
        if kind == "family":
            return self.relative(value)
        organisation, _, role = value.partition("/")
        return {**self.organisation(organisation), "display": role or organisation}


def ref_of(pathway: Pathway, kind: str, id_system: str, value: object) -> Ref:
    return pathway.ref(kind, id_system, str(value))


def episode_ref(pathway: Pathway, case_id: UUID | str) -> Ref:
    pathway.episode(case_id)
    return pathway.ref("EpisodeOfCare", "case", str(case_id))


def day(value: date) -> str:
    return value.isoformat()


def schedule(pathway: Pathway, case_id: UUID, due: date, why: str) -> Ref:
    """A follow-up due by `due` becomes the plan's open activity (superseding an open one)."""
    plan = pathway.care_plan(case_id)
    for activity in plan["activity"]:
        if activity["detail"]["status"] == "scheduled":
            activity["detail"].update(status="cancelled", statusReason=text("superseded"))
    plan["activity"].append(
        {
            "detail": {
                "status": "scheduled",
                "code": coded("follow-up", "follow-up-visit", "Follow-up visit"),
                "description": why,
                "scheduledPeriod": {"end": day(due)},
            }
        }
    )
    return ref_of(pathway, "CarePlan", "follow-up-plan", case_id)


def close_open_activity(pathway: Pathway, case_id: UUID, status: str, **detail: Any) -> None:
    for activity in pathway.care_plan(case_id)["activity"]:
        if activity["detail"]["status"] == "scheduled":
            activity["detail"].update(status=status, **detail)


def move_task(task: dict[str, Any], status: str, business: str, reason: str | None = None) -> None:
    task["status"] = status
    task["businessStatus"] = coded("referral-status", business)
    if reason is not None:
        task["statusReason"] = text(reason)


# intake -------------------------------------------------------------------------------------


@maps(DiagnosisRecorded)
def diagnosis(p: Pathway, e: Envelope[Any], d: DiagnosisRecorded) -> list[Ref]:
    condition = p.resource("Condition", "diagnosis", str(d.diagnosis_id))
    condition.update(
        clinicalStatus={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        verificationStatus={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        category=[
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        code={
            "coding": [
                {"system": ICD10, "code": d.icd10_code},
                coded("diagnosis-category", d.category)["coding"][0],
            ],
            "text": d.category.replace("_", " "),
        },
        subject=p.patient,
        recordedDate=day(d.diagnosed_on),
    )
    reference = ref_of(p, "Condition", "diagnosis", d.diagnosis_id)
    if reference not in p.conditions:
        p.conditions.append(reference)
    return [reference]


@maps(ReferralAccepted)
def referral_accepted(p: Pathway, e: Envelope[Any], d: ReferralAccepted) -> list[Ref]:
    task = p.task(d.referral_id)
    move_task(task, "accepted", "accepted")
    task["owner"] = p.organisation(d.hospital_id)
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(ReferralDeclined)
def referral_declined(p: Pathway, e: Envelope[Any], d: ReferralDeclined) -> list[Ref]:
    move_task(p.task(d.referral_id), "rejected", "declined", d.reason)
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(PatientAdmitted)
def admitted(p: Pathway, e: Envelope[Any], d: PatientAdmitted) -> list[Ref]:
    stay = p.resource("Encounter", "admission", str(d.admission_id))
    stay.update(
        status="in-progress",
        subject=p.patient,
        serviceProvider=p.organisation(d.hospital_id),
        period={"start": day(d.admitted_on)},
        **{"class": {"system": V3_ACT_CODE, "code": "IMP", "display": "inpatient encounter"}},
    )
    touched = [ref_of(p, "Encounter", "admission", d.admission_id)]
    if d.referral_id is not None:
        task = p.task(d.referral_id)
        move_task(task, "completed", "admitted")
        task["output"] = [{"type": text("admission"), "valueReference": touched[0]}]
        touched.append(ref_of(p, "Task", "referral", d.referral_id))
    return touched


@maps(PatientDischarged)
def discharged(p: Pathway, e: Envelope[Any], d: PatientDischarged) -> list[Ref]:
    stay = p.resource("Encounter", "admission", str(d.admission_id))
    admitted = stay.get("period", {})
    stay.update(
        status="finished",
        subject=p.patient,
        serviceProvider=p.organisation(d.hospital_id),
        period={**admitted, "end": day(d.discharged_on)},
        hospitalization={"dischargeDisposition": coded("discharge", "community", "Community")},
        **{"class": {"system": V3_ACT_CODE, "code": "IMP", "display": "inpatient encounter"}},
    )
    return [ref_of(p, "Encounter", "admission", d.admission_id)]


# routing ------------------------------------------------------------------------------------


@maps(PatientRouted)
def routed(p: Pathway, e: Envelope[Any], d: PatientRouted) -> list[Ref]:
    return [belongs_to(p, d.center_id)]


@maps(PatientTransferred)
def transferred(p: Pathway, e: Envelope[Any], d: PatientTransferred) -> list[Ref]:
    return [belongs_to(p, d.to_center_id)]


def belongs_to(p: Pathway, center_id: str) -> Ref:
    """The center of the residence is the patient's primary care provider."""
    patient = p.resource("Patient", "patient", str(p.patient_id))
    patient["active"] = True
    patient["generalPractitioner"] = [p.organisation(center_id)]
    patient["managingOrganization"] = p.organisation(center_id)
    return p.patient


@maps(ReferralIssued)
def referral_issued(p: Pathway, e: Envelope[Any], d: ReferralIssued) -> list[Ref]:
    task = p.task(d.referral_id)
    task.setdefault("requester", p.organisation(d.from_center_id))
    task.setdefault("reasonCode", coded("referral-reason", d.reason))
    task["owner"] = p.organisation(d.hospital_id)
    task["restriction"] = {"period": {"end": instant(d.accept_by)}}
    if task["status"] == "requested":
        task["businessStatus"] = coded("referral-status", "issued")
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(ReferralEscalated)
def referral_escalated(p: Pathway, e: Envelope[Any], d: ReferralEscalated) -> list[Ref]:
    task = p.task(d.referral_id)
    if d.referral_open:
        task["businessStatus"] = coded("referral-status", "escalated")
    elif task["status"] in {"requested", "accepted"}:
        move_task(task, "failed", "escalated", d.reason)
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(ReferralCancelled)
def referral_cancelled(p: Pathway, e: Envelope[Any], d: ReferralCancelled) -> list[Ref]:
    move_task(p.task(d.referral_id), "cancelled", "cancelled", d.reason)
    return [ref_of(p, "Task", "referral", d.referral_id)]


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
    return [visit_ref, plan]


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


# notifications ------------------------------------------------------------------------------


@maps(NotificationDelivered)
def delivered(p: Pathway, e: Envelope[Any], d: NotificationDelivered) -> list[Ref]:
    message = p.notification(d.notification_id)
    channel = coded("channel", d.channel)
    if channel not in message["medium"]:
        message["medium"].append(channel)
    message.update(
        status="completed",
        recipient=[p.recipient(d.recipient)],
        sender=p.service("notifications"),
        priority="urgent" if d.urgency == "urgent" else "routine",
    )
    message.setdefault("sent", instant(e.occurred_at))
    message.setdefault("received", instant(e.occurred_at))
    message.pop("statusReason", None)
    p.about_event(message, d.about_event_id, d.about_event_type)
    return [ref_of(p, "Communication", "notification", d.notification_id)]


@maps(NotificationFailed)
def failed(p: Pathway, e: Envelope[Any], d: NotificationFailed) -> list[Ref]:
    message = p.notification(d.notification_id)
    message.update(recipient=[p.recipient(d.recipient)], sender=p.service("notifications"))
    if message["status"] != "completed":
        message["status"] = "on-hold"
        # The channel's own reason may quote an address: only the channel and attempts go out.
        message["statusReason"] = text(f"{d.channel} failed after {d.attempts} attempts")
    p.about_event(message, d.about_event_id, d.about_event_type)
    return [ref_of(p, "Communication", "notification", d.notification_id)]


@maps(NotificationAcknowledged)
def acknowledged(p: Pathway, e: Envelope[Any], d: NotificationAcknowledged) -> list[Ref]:
    value = str(d.notification_id)
    p.notification(d.notification_id)
    p.resource("Communication", "notification-acknowledgement", value).update(
        status="completed",
        inResponseTo=[ref_of(p, "Communication", "notification", d.notification_id)],
        subject=p.patient,
        sender=p.recipient(d.recipient),
        recipient=[p.service("notifications")],
        sent=instant(e.occurred_at),
        topic=coded("notification", "acknowledged", "Acknowledged"),
    )
    return [p.ref("Communication", "notification-acknowledgement", value)]


@maps(NotificationEscalated)
def escalated(p: Pathway, e: Envelope[Any], d: NotificationEscalated) -> list[Ref]:
    value = str(d.notification_id)
    p.notification(d.notification_id)
    original = ref_of(p, "Communication", "notification", d.notification_id)
    p.resource("Communication", "notification-escalation", value).update(
        status="completed",
        priority="urgent",
        subject=p.patient,
        sender=p.service("notifications"),
        recipient=[p.recipient(d.escalated_to)],
        sent=instant(e.occurred_at),
        about=[original],
        topic=coded("notification", "escalated", "Escalated"),
        reasonCode=[text(f"unacknowledged for {d.unacknowledged_for_minutes} minutes")],
    )
    return [p.ref("Communication", "notification-escalation", value)]
