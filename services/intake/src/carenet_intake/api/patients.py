"""Patients and diagnoses: what a clinician of a certified hospital records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field, field_validator
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as NationalIdError

from carenet_access import (
    EXTENSION,
    Access,
    Control,
    Role,
    for_roles,
    guarded,
    of_organisation,
    require_organisation,
)
from carenet_contracts import DiagnosisCategory
from carenet_intake.api.common import Intake, OrganisationId, Register, Strict
from carenet_intake.application import Diagnosis, Registration
from carenet_intake.domain.patient import PERSONAL_FIELDS
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["patients"])

RegionCode = Annotated[str, Field(pattern=r"^\d{6}(\d{3})?$", examples=["440305001"])]
Icd10Code = Annotated[str, Field(pattern=r"^[A-Z]\d{2}(\.\d{1,2})?$", examples=["F20.0"])]


class Guardian(Strict):
    name: str = Field(min_length=1, max_length=100)
    relationship: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=r"^\+?\d{6,15}$")


class RegisterPatient(Strict):
    hospital_id: OrganisationId
    name: str = Field(min_length=1, max_length=100)
    national_id: str = Field(description="18-character resident identity card number.")
    date_of_birth: date
    sex: Literal["female", "male"]
    phone: str = Field(pattern=r"^\+?\d{6,15}$")
    address: str = Field(min_length=1, max_length=300)
    region_code: RegionCode
    guardian: Guardian | None = None

    @field_validator("national_id")
    @classmethod
    def _valid_national_id(cls, value: str) -> str:
        try:
            return str(ric.validate(value))
        except NationalIdError as error:
            raise ValueError(f"malformed national ID: {error}") from None


class Consent(Strict):
    """Informed consent to community management, from the patient or the guardian."""

    community_management: Literal[True]
    given_by: Literal["patient", "guardian"]
    given_on: date


class RecordDiagnosis(Strict):
    hospital_id: OrganisationId
    clinician_id: OrganisationId
    icd10_code: Icd10Code
    co_diagnoses: list[Icd10Code] = Field(default_factory=list, max_length=10)
    diagnosed_on: date
    risk_level: int = Field(ge=0, le=5, description="Initial risk assessment level 0-5.")
    consent: Consent
    override_reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="Only for a diagnosis outside the six severe disorders: why it is recorded. "
        "Such a diagnosis stays at the hospital and is not routed to community management.",
    )


class ReportingView(BaseModel):
    """How the report stands against the 10-working-day deadline."""

    deadline: date
    reported_on: date
    working_days_taken: int
    late: bool
    calendar_version: str


class PatientCreated(BaseModel):
    patient_id: UUID = Field(
        description="The registration's handle, to record the diagnosis through: the new "
        "patient's id, or, for a national ID registered before, a handle whose diagnosis "
        "joins that patient (the diagnosis answers the patient's id). Until a diagnosis is "
        "recorded through it, nothing can be read with it. Asked again, the same handle."
    )


class DiagnosisCreated(BaseModel):
    patient_id: UUID = Field(description="The patient's id, also when recorded through a handle.")
    diagnosis_id: UUID
    category: DiagnosisCategory | None = Field(
        description="null: outside the six categories, kept at the hospital on the override."
    )
    reporting: ReportingView | None


class ErasedView(BaseModel):
    legal_basis: str
    reference: str
    erased_at: datetime


class PatientView(BaseModel):
    """After an erasure the personal fields are null and `erased` says when and why."""

    patient_id: UUID
    hospital_id: str
    name: str | None
    national_id: str | None
    date_of_birth: date | None
    sex: str | None
    phone: str | None
    address: str | None
    region_code: str
    guardian: dict[str, str] | None
    diagnosis_ids: list[UUID]
    erased: ErasedView | None = None


class RegisteredPatientView(BaseModel):
    patient_id: UUID
    diagnoses: int


@router.post("/patients", status_code=status.HTTP_201_CREATED, **for_roles(Role.CLINICIAN))
def register_patient(
    body: RegisterPatient, intake: Intake, corr: CorrelationId, actor: CurrentActor
) -> PatientCreated:
    """Answered alike whether the national ID was registered before or not (README)."""
    require_organisation(actor, body.hospital_id)
    registration = Registration(
        **body.model_dump(exclude={"guardian"}),
        guardian=body.guardian.model_dump() if body.guardian else None,
    )
    return PatientCreated(patient_id=intake.register_patient(registration, Cause.request(corr)))


def _may_diagnose(
    patient_id: UUID, intake: Intake, actor: CurrentActor, control: Control, request: Request
) -> None:
    """A clinician records a diagnosis through a registration of their own hospital (the one
    thing registering allows), or about a patient the policy lets them record care for."""
    if actor.role == Role.CLINICIAN and intake.registering_hospital(patient_id) == (
        actor.organisation
    ):
        return
    control.enforce_request(request, actor, Access.RECORD_CARE, patient_id)


@router.post(
    "/patients/{patient_id}/diagnoses",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(_may_diagnose)],
    openapi_extra={EXTENSION: {"access": Access.RECORD_CARE.value, "target": "patient"}},
)
def record_diagnosis(
    patient_id: UUID,
    body: RecordDiagnosis,
    intake: Intake,
    corr: CorrelationId,
    actor: CurrentActor,
) -> DiagnosisCreated:
    require_organisation(actor, body.hospital_id)
    diagnosis = copy_of(
        Diagnosis,
        body,
        co_diagnoses=tuple(body.co_diagnoses),
        consent_given_by=body.consent.given_by,
        consent_given_on=body.consent.given_on,
        recorded_by=actor,
    )
    recorded = intake.record_diagnosis(patient_id, diagnosis, Cause.request(corr))
    reporting = recorded.reporting
    return copy_of(
        DiagnosisCreated,
        recorded,
        reporting=None if reporting is None else copy_of(ReportingView, reporting),
    )


@router.get("/patients/{patient_id}", **guarded(Access.READ_IDENTITY))
def read_patient(patient_id: UUID, intake: Intake) -> PatientView:
    record = intake.patient_record(patient_id)
    personal = record.personal_data
    return PatientView(
        patient_id=record.patient_id,
        hospital_id=record.hospital_id,
        region_code=record.region_code,
        diagnosis_ids=list(record.diagnosis_ids),
        erased=None if record.erasure is None else ErasedView(**record.erasure.__dict__),
        **(personal.__dict__ if personal else dict.fromkeys(PERSONAL_FIELDS)),
    )


@router.get("/hospitals/{hospital_id}/patients", **of_organisation("hospital_id", Role.CLINICIAN))
async def patients_of_hospital(hospital_id: str, register: Register) -> list[RegisteredPatientView]:
    return [
        RegisteredPatientView(patient_id=p.patient_id, diagnoses=p.diagnoses)
        for p in register.patients_of(hospital_id)
    ]
