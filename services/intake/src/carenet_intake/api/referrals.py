"""The hospital's side of two-way referral: worklist, accept, decline, admit, discharge.

The acting hospital is named in the request, and must be the caller's organisation.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from carenet_access import (
    Access,
    Control,
    Role,
    for_roles,
    guarded,
    of_organisation,
    require_organisation,
)
from carenet_intake.api.common import Intake, OrganisationId, Register, Strict
from carenet_intake.domain import ON_WORKLIST, DeclineReason, ReferralStatus
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["referrals and admissions"])


class WorklistFilter(StrEnum):
    OPEN = "open"
    """Issued or accepted: the patients the hospital should expect."""
    ALL = "all"
    ISSUED = "issued"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ADMITTED = "admitted"

    def statuses(self) -> frozenset[ReferralStatus]:
        if self is WorklistFilter.OPEN:
            return ON_WORKLIST
        if self is WorklistFilter.ALL:
            return frozenset(ReferralStatus)
        return frozenset({ReferralStatus(self.value)})


class ReferralView(BaseModel):
    referral_id: UUID
    patient_id: UUID
    case_id: UUID
    from_center_id: str
    reason: str
    risk_level: int
    accept_by: datetime
    received_at: datetime
    status: ReferralStatus
    admission_id: UUID | None


class HospitalAction(Strict):
    hospital_id: OrganisationId


class Decline(HospitalAction):
    reason: DeclineReason
    note: str | None = Field(
        default=None,
        max_length=500,
        description="For the hospital's own record; never published.",
    )


class ReferralAnswered(BaseModel):
    referral_id: UUID
    status: ReferralStatus


class Admit(HospitalAction):
    referral_id: UUID | None = Field(
        default=None, description="The referral the patient comes on; none: direct admission."
    )
    admitted_on: date | None = Field(default=None, description="Default: today (China time).")


class Discharge(HospitalAction):
    discharged_on: date | None = Field(default=None, description="Default: today (China time).")


class AdmissionCreated(BaseModel):
    patient_id: UUID
    admission_id: UUID


class DischargeRecorded(BaseModel):
    patient_id: UUID
    admission_id: UUID
    referral_id: UUID | None


class InpatientView(BaseModel):
    patient_id: UUID
    admission_id: UUID
    referral_id: UUID | None
    admitted_on: date


@router.get("/referrals", **for_roles(Role.CLINICIAN))
def worklist(
    hospital_id: Annotated[str, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
    register: Register,
    actor: CurrentActor,
    control: Control,
    request: Request,
    status: WorklistFilter = WorklistFilter.OPEN,
) -> list[ReferralView]:
    """The referrals addressed to the actor's hospital, the most urgent first."""
    require_organisation(actor, hospital_id)
    referrals = register.worklist_of(hospital_id, status.statuses())
    shown = control.visible(actor, (r.patient_id for r in referrals), request)
    return [copy_of(ReferralView, r) for r in referrals if r.patient_id in shown]


@router.post("/referrals/{referral_id}/accept", **guarded(Access.RECORD_CARE, target="referral"))
def accept_referral(
    referral_id: UUID,
    body: HospitalAction,
    intake: Intake,
    corr: CorrelationId,
    actor: CurrentActor,
) -> ReferralAnswered:
    require_organisation(actor, body.hospital_id)
    intake.accept_referral(referral_id, body.hospital_id, Cause.request(corr))
    return ReferralAnswered(referral_id=referral_id, status=ReferralStatus.ACCEPTED)


@router.post("/referrals/{referral_id}/decline", **guarded(Access.RECORD_CARE, target="referral"))
def decline_referral(
    referral_id: UUID, body: Decline, intake: Intake, corr: CorrelationId, actor: CurrentActor
) -> ReferralAnswered:
    require_organisation(actor, body.hospital_id)
    intake.decline_referral(
        referral_id, body.hospital_id, body.reason, body.note, Cause.request(corr)
    )
    return ReferralAnswered(referral_id=referral_id, status=ReferralStatus.DECLINED)


@router.post(
    "/patients/{patient_id}/admissions",
    status_code=status.HTTP_201_CREATED,
    **guarded(Access.RECORD_CARE),
)
def admit(
    patient_id: UUID, body: Admit, intake: Intake, corr: CorrelationId, actor: CurrentActor
) -> AdmissionCreated:
    require_organisation(actor, body.hospital_id)
    admission_id = intake.admit(
        patient_id, body.hospital_id, body.admitted_on, body.referral_id, Cause.request(corr)
    )
    return AdmissionCreated(patient_id=patient_id, admission_id=admission_id)


@router.post("/patients/{patient_id}/discharge", **guarded(Access.RECORD_CARE))
def discharge(
    patient_id: UUID, body: Discharge, intake: Intake, corr: CorrelationId, actor: CurrentActor
) -> DischargeRecorded:
    require_organisation(actor, body.hospital_id)
    stay = intake.discharge(patient_id, body.hospital_id, body.discharged_on, Cause.request(corr))
    return DischargeRecorded(
        patient_id=patient_id, admission_id=stay.admission_id, referral_id=stay.referral_id
    )


@router.get("/hospitals/{hospital_id}/inpatients", **of_organisation("hospital_id", Role.CLINICIAN))
async def inpatients(hospital_id: str, register: Register) -> list[InpatientView]:
    return [copy_of(InpatientView, s) for s in register.inpatients_of(hospital_id)]
