"""The hospital's and routing's events: diagnoses, admissions, routes and referral tasks."""

from __future__ import annotations

from typing import Any

from carenet_audit_tool.fhir.export import (
    ICD10,
    V3_ACT_CODE,
    coded,
    instant,
    text,
)
from carenet_audit_tool.fhir.pathway import (
    Pathway,
    Ref,
    day,
    maps,
    move_task,
    ref_of,
)
from carenet_contracts import Envelope
from carenet_contracts.intake import (
    DiagnosisRecorded,
    PatientAdmitted,
    PatientDischarged,
    ReferralAccepted,
    ReferralDeclined,
)
from carenet_contracts.routing import (
    PatientRouted,
    PatientTransferred,
    ReferralCancelled,
    ReferralEscalated,
    ReferralIssued,
)

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
        move_task(task, "failed", "escalated", d.cause)
    return [ref_of(p, "Task", "referral", d.referral_id)]


@maps(ReferralCancelled)
def referral_cancelled(p: Pathway, e: Envelope[Any], d: ReferralCancelled) -> list[Ref]:
    move_task(p.task(d.referral_id), "cancelled", "cancelled", d.reason)
    return [ref_of(p, "Task", "referral", d.referral_id)]
