"""What intake is asked to do by the events it consumes (`policy` builds these from them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ReceiveReferral:
    """Put a community referral routing issued on the addressed hospital's worklist."""

    patient_id: UUID
    referral_id: UUID
    case_id: UUID
    from_center_id: str
    hospital_id: str
    reason: str
    risk_level: int
    accept_by: datetime


@dataclass(frozen=True, slots=True)
class CancelReferral:
    """Take a referral off the hospital's worklist."""

    referral_id: UUID
    hospital_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ShareContactDetails:
    """Seal the patient's name, phone and address to a new case's key, for its center alone."""

    patient_id: UUID
    case_id: UUID
    center_id: str
    contact_key: str
    """The case's X25519 public key, as the contract carries it."""
