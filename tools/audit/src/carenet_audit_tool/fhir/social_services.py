"""A referral to a partner's social service as FHIR: the `ServiceRequest` (the service asked of
the partner, with the consent it rests on) and the `Task` that follows it at the partner, as
HL7's referral workflow has it (requested, accepted or rejected, in progress, then completed,
failed or cancelled). What the patient seeks and the contact details shared stay in casework."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from carenet_audit_tool.fhir.export import coded, text
from carenet_audit_tool.fhir.pathway import Pathway, Ref, day, episode_ref, maps, ref_of
from carenet_contracts import Envelope
from carenet_contracts.social import (
    ServiceOutcome,
    SocialServiceAccepted,
    SocialServiceDeclined,
    SocialServiceEnded,
    SocialServiceReferred,
    SocialServiceStarted,
)

ENDING = {
    ServiceOutcome.COMPLETED: ("completed", "completed"),
    ServiceOutcome.ONGOING_ELSEWHERE: ("completed", "completed"),
    ServiceOutcome.DROPPED_OUT: ("failed", "revoked"),
    ServiceOutcome.WITHDRAWN: ("cancelled", "revoked"),
}
"""An outcome: the Task's status and the ServiceRequest's."""


@maps(SocialServiceReferred)
def referred(p: Pathway, e: Envelope[Any], d: SocialServiceReferred) -> list[Ref]:
    shared = ", ".join(d.shares) or "no contact details"
    _request(p, d.referral_id).update(
        status="active",
        intent="order",
        category=[coded("service-category", "social-service", "Social service")],
        code=coded("social-service", d.service, d.service.replace("_", " ")),
        subject=p.patient,
        authoredOn=day(d.referred_on),
        requester=p.organisation(d.center_id),
        performer=[p.organisation(d.partner_id)],
        supportingInfo=[episode_ref(p, d.case_id)],
        note=[text(f"The patient consented on {day(d.consented_on)}; shared: {shared}.")],
    )
    _task(p, d.referral_id).update(
        authoredOn=day(d.referred_on),
        requester=p.organisation(d.center_id),
        owner=p.organisation(d.partner_id),
    )
    return _refs(p, d.referral_id)


@maps(SocialServiceAccepted)
def accepted(p: Pathway, e: Envelope[Any], d: SocialServiceAccepted) -> list[Ref]:
    _task(p, d.referral_id).update(status="accepted", lastModified=day(d.accepted_on))
    return _refs(p, d.referral_id)


@maps(SocialServiceDeclined)
def declined(p: Pathway, e: Envelope[Any], d: SocialServiceDeclined) -> list[Ref]:
    _task(p, d.referral_id).update(
        status="rejected",
        statusReason=coded("social-service-decline-reason", d.reason),
        lastModified=day(d.declined_on),
    )
    _request(p, d.referral_id)["status"] = "revoked"
    return _refs(p, d.referral_id)


@maps(SocialServiceStarted)
def started(p: Pathway, e: Envelope[Any], d: SocialServiceStarted) -> list[Ref]:
    _task(p, d.referral_id).update(
        status="in-progress",
        executionPeriod={"start": day(d.started_on)},
        lastModified=day(d.started_on),
    )
    return _refs(p, d.referral_id)


@maps(SocialServiceEnded)
def ended(p: Pathway, e: Envelope[Any], d: SocialServiceEnded) -> list[Ref]:
    task_status, request_status = ENDING[d.outcome]
    task = _task(p, d.referral_id)
    task.update(
        status=task_status,
        businessStatus=coded("social-service-outcome", d.outcome),
        lastModified=day(d.ended_on),
    )
    if d.started:
        task["executionPeriod"] = task.get("executionPeriod", {}) | {"end": day(d.ended_on)}
    _request(p, d.referral_id)["status"] = request_status
    return _refs(p, d.referral_id)


def _request(p: Pathway, referral_id: UUID) -> dict[str, Any]:
    return p.resource("ServiceRequest", "social-referral", str(referral_id))


def _task(p: Pathway, referral_id: UUID) -> dict[str, Any]:
    """The referral's Task at the partner, requested until a step says otherwise."""
    task = p.resource("Task", "social-referral", str(referral_id))
    if "status" not in task:
        focus = p.ref("ServiceRequest", "social-referral", str(referral_id))
        task.update(status="requested", intent="order", focus=focus, **{"for": p.patient})
    return task


def _refs(p: Pathway, referral_id: UUID) -> list[Ref]:
    return [
        ref_of(p, "ServiceRequest", "social-referral", referral_id),
        ref_of(p, "Task", "social-referral", referral_id),
    ]
