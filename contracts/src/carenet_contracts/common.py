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


class VisitClassification(StrEnum):
    STABLE = "stable"
    BASICALLY_STABLE = "basically_stable"
    UNSTABLE = "unstable"
