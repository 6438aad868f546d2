"""What routing is asked to do by the events it consumes (`policy` builds these from them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from carenet_routing.domain import Happening


@dataclass(frozen=True, slots=True)
class RouteDiagnosedPatient:
    """Give a newly diagnosed patient a route: a center by catchment, or the manual queue."""

    patient_id: UUID
    diagnosing_hospital_id: str
    category: str
    risk_level: int
    region_code: str
    recorded_at: datetime
    """When intake recorded the diagnosis: its local day starts the routing deadline."""


@dataclass(frozen=True, slots=True)
class RequestReferral:
    """Find a hospital for a center's referral and issue it, or leave it unplaced."""

    patient_id: UUID
    referral_id: UUID
    case_id: UUID
    center_id: str
    reason: str
    risk_level: int


@dataclass(frozen=True, slots=True)
class FollowHospital:
    """The hospital's side of the referral saga: it accepted, declined, admitted or discharged."""

    patient_id: UUID
    referral_id: UUID
    hospital_id: str
    happening: Happening
    when: datetime | date
    """An instant (its local day under the rule set counts) or the hospital's day itself."""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class WithdrawReferral:
    """The center no longer wants the referral."""

    patient_id: UUID
    referral_id: UUID
    reason: str
