"""The integration events of the care pathway, one payload model each.

They carry what their consumers need and no more: no names, national ids, phone numbers or
addresses ever leave intake.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from carenet_contracts.envelope import Payload, Producer

RiskLevel = Annotated[int, Field(ge=0, le=5, description="Risk assessment level 0-5.")]
OrganisationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
RegionCode = Annotated[
    str, Field(pattern=r"^\d{6}(\d{3})?$", description="District (6) or subdistrict (9 digits).")
]


class DiagnosisCategory(StrEnum):
    """The six severe mental disorders in scope of community management."""

    SCHIZOPHRENIA = "schizophrenia"
    SCHIZOAFFECTIVE_DISORDER = "schizoaffective_disorder"
    PARANOID_PSYCHOSIS = "paranoid_psychosis"
    BIPOLAR_DISORDER = "bipolar_disorder"
    EPILEPSY_MENTAL_DISORDER = "epilepsy_mental_disorder"
    INTELLECTUAL_DISABILITY_MENTAL_DISORDER = "intellectual_disability_mental_disorder"


class VisitMode(StrEnum):
    CLINIC = "clinic"
    HOME = "home"
    PHONE = "phone"


class VisitClassification(StrEnum):
    STABLE = "stable"
    BASICALLY_STABLE = "basically_stable"
    UNSTABLE = "unstable"


class DiagnosisRecorded(Payload):
    """A certified hospital diagnosed a severe mental disorder, with consent to community care."""

    event_type: ClassVar[str] = "DiagnosisRecorded"
    producer: ClassVar[Producer] = "intake"

    diagnosis_id: UUID
    hospital_id: OrganisationId
    icd10_code: str = Field(pattern=r"^[A-Z]\d{2}(\.\d{1,2})?$")
    category: DiagnosisCategory
    diagnosed_on: date
    risk_level: RiskLevel
    region_code: RegionCode = Field(description="Residence, for routing to a community center.")


class PatientRouted(Payload):
    """The patient now belongs to the community center whose catchment holds the residence."""

    event_type: ClassVar[str] = "PatientRouted"
    producer: ClassVar[Producer] = "routing"

    center_id: OrganisationId
    region_code: RegionCode
    diagnosing_hospital_id: OrganisationId
    category: DiagnosisCategory
    risk_level: RiskLevel
    first_visit_due: date
    directory_version: int = Field(ge=1, description="Version of the catchment directory used.")
    routed_by: str = Field(description="'catchment' or the operator who routed by hand.")
    rule_set_version: str


class RoutingPending(Payload):
    """No catchment holds the residence: the patient waits in the manual routing queue."""

    event_type: ClassVar[str] = "RoutingPending"
    producer: ClassVar[Producer] = "routing"

    region_code: RegionCode
    reason: str
    route_by: date = Field(description="Deadline for an operator to route by hand.")
    directory_version: int = Field(ge=1)


class CaseOpened(Payload):
    """The community health center opened the patient's case file."""

    event_type: ClassVar[str] = "CaseOpened"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    first_visit_due: date


class CaseManagerAssigned(Payload):
    """A social worker of the center became the case manager."""

    event_type: ClassVar[str] = "CaseManagerAssigned"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    reason: str


class VisitCompleted(Payload):
    """A follow-up visit happened; the rules classified it and set the next due date."""

    event_type: ClassVar[str] = "VisitCompleted"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    visit_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    visited_on: date
    mode: VisitMode
    risk_level: RiskLevel
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str


class NotificationDelivered(Payload):
    """A notification landed in its recipient's inbox."""

    event_type: ClassVar[str] = "NotificationDelivered"
    producer: ClassVar[Producer] = "notifications"

    notification_id: UUID
    recipient: str = Field(description="A staff member or a role at an organisation.")
    channel: str
    urgency: str
    about_event_id: UUID
    about_event_type: str
