"""Routing's inbound policy: the one table of the integration events routing acts on, each
translated into the command it asks for."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from carenet_contracts import Envelope
from carenet_contracts.casework import ReferralRequested, ReferralWithdrawn
from carenet_contracts.intake import (
    DiagnosisRecorded,
    PatientAdmitted,
    PatientDischarged,
    ReferralAccepted,
    ReferralDeclined,
)
from carenet_kit.fields import copy_of
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause
from carenet_routing.application import RoutingApplication
from carenet_routing.commands import (
    FollowHospital,
    RequestReferral,
    RouteDiagnosedPatient,
    WithdrawReferral,
)
from carenet_routing.domain import Happening

CONSUMES = ["intake", "casework"]


def policy(app: RoutingApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        patient_id = envelope.patient_id

        def hospital(answer: object, happening: Happening, when: date, detail: str = "") -> None:
            """What the hospital did about a referral, for the referral's saga."""
            followed = copy_of(
                FollowHospital,
                answer,
                patient_id=patient_id,
                happening=happening,
                when=when,
                detail=detail,
            )
            app.follow_hospital(followed, cause)

        match envelope.data:
            case DiagnosisRecorded() as e:
                diagnosed = copy_of(
                    RouteDiagnosedPatient,
                    e,
                    patient_id=patient_id,
                    diagnosing_hospital_id=e.hospital_id,
                    category=e.category.value,
                    recorded_at=envelope.recorded_at,
                )
                app.route_diagnosed_patient(diagnosed, cause)
            case ReferralRequested() as e:
                reason = e.reason.value
                app.request_referral(
                    copy_of(RequestReferral, e, patient_id=patient_id, reason=reason), cause
                )
            case ReferralWithdrawn() as e:
                app.withdraw_referral(copy_of(WithdrawReferral, e, patient_id=patient_id), cause)
            case ReferralAccepted() as e:
                hospital(e, Happening.ACCEPTED, e.accepted_at)
            case ReferralDeclined() as e:
                hospital(e, Happening.DECLINED, envelope.occurred_at, detail=e.reason)
            case PatientAdmitted(referral_id=UUID()) as e:
                hospital(e, Happening.ADMITTED, e.admitted_on)
            case PatientDischarged(referral_id=UUID()) as e:
                hospital(e, Happening.DISCHARGED, e.discharged_on)
            case PatientAdmitted() | PatientDischarged():
                pass  # an admission or discharge that no community referral asked for

    return handle
