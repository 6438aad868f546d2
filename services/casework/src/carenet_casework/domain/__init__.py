"""The community tier's aggregates, one module each."""

from carenet_casework.domain.case import (
    Case,
    CaseConflict,
    Emergency,
    Medication,
    PatientCases,
    Visit,
)
from carenet_casework.domain.caseload import Caseload
from carenet_casework.domain.family import Family
from carenet_casework.domain.sessions import RehabilitationSession
from carenet_casework.domain.team import CareTeam

__all__ = [
    "CareTeam",
    "Case",
    "CaseConflict",
    "Caseload",
    "Emergency",
    "Family",
    "Medication",
    "PatientCases",
    "RehabilitationSession",
    "Visit",
]
