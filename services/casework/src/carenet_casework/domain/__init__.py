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

__all__ = ["Case", "CaseConflict", "Caseload", "Emergency", "Medication", "PatientCases", "Visit"]
