"""What casework publishes of a patient's referrals to social services: employment training,
day rehabilitation and clubhouses, hotlines, public-welfare organisations, the Disabled
Persons' Federation (producer `casework`; casework's third module, by subject).

A referral is made with the patient's consent to one partner organisation of the directory,
which accepts or declines it, starts the service and ends it with an outcome. The words of a
referral (what the patient seeks, why it ended) and the contact details it shares stay in
casework, where the partner's staff read them: these events say who, what and when.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from carenet_contracts.common import OrganisationId
from carenet_contracts.envelope import Payload, Producer


class SocialService(StrEnum):
    """What a partner organisation offers (the directory says which partner offers what)."""

    EMPLOYMENT_TRAINING = "employment_training"
    DAY_REHABILITATION = "day_rehabilitation"
    CLUBHOUSE = "clubhouse"
    PSYCHOLOGICAL_HOTLINE = "psychological_hotline"
    PUBLIC_WELFARE = "public_welfare"
    DISABILITY_SERVICES = "disability_services"
    """The Disabled Persons' Federation's: certification, allowances, assisted employment."""


class SharedDetail(StrEnum):
    """What of the patient's contact details a referral lets the partner's staff read."""

    NAME = "name"
    PHONE = "phone"


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    OUTSIDE_SERVICE_AREA = "outside_service_area"
    PATIENT_UNREACHABLE = "patient_unreachable"
    OTHER = "other"


class ServiceOutcome(StrEnum):
    COMPLETED = "completed"
    """The service ran its course (a training finished, a placement found)."""
    ONGOING_ELSEWHERE = "ongoing_elsewhere"
    """The patient goes on with it under another arrangement."""
    DROPPED_OUT = "dropped_out"
    WITHDRAWN = "withdrawn"
    """The patient (or the case manager, for the patient) withdrew the referral."""


class SocialServiceReferred(Payload):
    """The case manager referred the patient, who consented, to a partner organisation."""

    event_type: ClassVar[str] = "SocialServiceReferred"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    case_id: UUID
    center_id: OrganisationId
    partner_id: OrganisationId
    service: SocialService
    referred_by: OrganisationId
    referred_on: date
    consented_on: date = Field(description="The day the patient consented to this referral.")
    shares: list[SharedDetail] = Field(
        description="The contact details the partner's staff may read (none: the partner "
        "learns only what the patient seeks, and reaches them through the case manager)."
    )


class SocialServiceAccepted(Payload):
    """The partner accepted the referral."""

    event_type: ClassVar[str] = "SocialServiceAccepted"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    center_id: OrganisationId
    partner_id: OrganisationId
    service: SocialService
    accepted_by: OrganisationId
    accepted_on: date


class SocialServiceDeclined(Payload):
    """The partner declined the referral; the case manager looks for another."""

    event_type: ClassVar[str] = "SocialServiceDeclined"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    center_id: OrganisationId
    partner_id: OrganisationId
    service: SocialService
    declined_by: OrganisationId
    declined_on: date
    reason: DeclineReason


class SocialServiceStarted(Payload):
    """The patient began to use the service."""

    event_type: ClassVar[str] = "SocialServiceStarted"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    center_id: OrganisationId
    partner_id: OrganisationId
    service: SocialService
    started_by: OrganisationId
    started_on: date


class SocialServiceEnded(Payload):
    """The referral ended, with its outcome: by the partner, or by the case manager when the
    patient withdrew it."""

    event_type: ClassVar[str] = "SocialServiceEnded"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    center_id: OrganisationId
    partner_id: OrganisationId
    service: SocialService
    ended_by: OrganisationId
    ended_on: date
    outcome: ServiceOutcome
    started: bool = Field(description="Whether the patient had begun to use the service.")
