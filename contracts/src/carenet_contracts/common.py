"""Field types and vocabularies shared by the contracts of several producers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

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


class MedicationAdherence(StrEnum):
    """How the patient took the prescribed medication since the last visit (the national
    follow-up form's three answers, and two more a record can honestly give)."""

    REGULAR = "regular"
    INTERMITTENT = "intermittent"
    NONE = "none"
    NOT_PRESCRIBED = "not_prescribed"
    NOT_RECORDED = "not_recorded"
    """A visit recorded before adherence was asked at every visit (a version-1 message)."""


class NonadherenceReason(StrEnum):
    """Why the medication was taken intermittently or not at all (the form's reasons)."""

    FORGETS = "forgets"
    SIDE_EFFECTS = "side_effects"
    FEELS_WELL = "feels_well"
    NO_INSIGHT = "no_insight"
    COST = "cost"
    SUPPLY = "supply"
    REFUSES = "refuses"
    OTHER = "other"


NOT_TAKEN_AS_PRESCRIBED = frozenset({MedicationAdherence.INTERMITTENT, MedicationAdherence.NONE})
"""The answers that need a `NonadherenceReason`, and only they."""


class VisitClassification(StrEnum):
    STABLE = "stable"
    BASICALLY_STABLE = "basically_stable"
    UNSTABLE = "unstable"


class CareTeamRole(StrEnum):
    """The members of a patient's care-and-assistance team (关爱帮扶小组)."""

    COMMUNITY_DOCTOR = "community_doctor"
    CASE_MANAGER = "case_manager"
    GRID_WORKER = "grid_worker"
    POLICE_LIAISON = "police_liaison"
    CIVIL_AFFAIRS = "civil_affairs"
    FAMILY_MEMBER = "family_member"
    GUARDIAN = "guardian"
    PEER_SUPPORTER = "peer_supporter"


class ReferralReason(StrEnum):
    """Why the community asks a hospital to take the patient."""

    UNSTABLE = "unstable"
    RISK = "risk"
    EMERGENCY = "emergency"
