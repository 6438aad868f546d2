"""How CareNet integration events change the patient's FHIR resources: the shared part.

A handler gets the export so far and one event, changes or creates resources, and returns the
references of the resources it touched: the event becomes their Provenance. Events are fed in
the order the network learnt them, each producer's stream in its own sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from carenet_audit_tool.fhir.export import EVENT_SYSTEM, Export, coded, text
from carenet_contracts import Envelope, Payload
from carenet_contracts.common import CareTeamRole, VisitMode

Ref = dict[str, Any]
P = TypeVar("P", bound=Payload)
Handler = Callable[["Pathway", Envelope[Any], P], list[Ref]]

HANDLERS: dict[type[Payload], Handler[Any]] = {}

UNMAPPED: dict[str, str] = {
    "ReportingDeadlineMissed": "a reporting-compliance finding about the hospital, not care",
    "RoutingPending": "the network's manual routing queue; no care relationship exists yet",
    "ManualRoutingOverdue": "the network's manual routing queue; no care relationship exists yet",
    "FollowUpsBelowYearlyMinimum": "a yearly compliance measure over the case, not a care fact",
    "FollowUpMissWithdrawn": "a correction of a compliance finding; the visit that shows it maps",
    "FollowUpsBelowYearlyMinimumWithdrawn": "a correction of a yearly compliance measure",
    "PatientHistoryRead": "CareNet's own audit trail; it stays with the auditors",
    "RecordAccessed": "CareNet's own access log; it stays with the auditors",
    "EmergencyAccessGranted": "CareNet's own access control; it stays with the auditors",
    "ContactDetailsShared": "sealed to one center's key; the export holds no personal data",
    "PersonalDataErased": "a fact about CareNet's own store; the export holds no personal data",
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
