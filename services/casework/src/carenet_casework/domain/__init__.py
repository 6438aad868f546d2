"""The community tier's aggregates, one module each (the case: one per use case)."""

from carenet_casework.domain.case import Case
from carenet_casework.domain.case_file import CaseConflict
from carenet_casework.domain.case_visits import Emergency, Medication, Visit
from carenet_casework.domain.caseload import Caseload
from carenet_casework.domain.family import Family
from carenet_casework.domain.patient_cases import PatientCases
from carenet_casework.domain.recovery_plan import RecoveryPlan
from carenet_casework.domain.screening import Screening
from carenet_casework.domain.sessions import RehabilitationSession
from carenet_casework.domain.social_referrals import SocialReferral
from carenet_casework.domain.staffing import CenterStaff
from carenet_casework.domain.team import CareTeam

__all__ = [
    "CareTeam",
    "Case",
    "CaseConflict",
    "Caseload",
    "CenterStaff",
    "Emergency",
    "Family",
    "Medication",
    "PatientCases",
    "RecoveryPlan",
    "RehabilitationSession",
    "Screening",
    "SocialReferral",
    "Visit",
]
