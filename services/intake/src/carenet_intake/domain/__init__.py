"""Intake's aggregates: the patient as registered, registrations that join a patient registered
before, referrals to the hospital, hospital stays.

Events stored before the split into modules name `carenet_intake.domain:Patient...` as their
topic; the re-export below keeps them readable.
"""

from carenet_intake.domain.errors import StateConflict, WrongHospital
from carenet_intake.domain.inpatient import Inpatient, Stay
from carenet_intake.domain.patient import Erasure, Hospital, IdentityClaim, Patient, PersonalData
from carenet_intake.domain.referral import (
    ON_WORKLIST,
    DeclineReason,
    Referral,
    ReferralStatus,
)
from carenet_intake.domain.registration import JoiningRegistration, RegistrationClaim

__all__ = [
    "ON_WORKLIST",
    "DeclineReason",
    "Erasure",
    "Hospital",
    "IdentityClaim",
    "Inpatient",
    "JoiningRegistration",
    "Patient",
    "PersonalData",
    "Referral",
    "ReferralStatus",
    "RegistrationClaim",
    "StateConflict",
    "Stay",
    "WrongHospital",
]
