"""Routing's inbound policy: the one table of the integration events routing acts on, each
translated into the command it asks for."""

from __future__ import annotations

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
                answer = copy_of(
                    FollowHospital,
                    e,
                    patient_id=patient_id,
                    happening=Happening.ACCEPTED,
                    when=e.accepted_at,
                )
                app.follow_hospital(answer, cause)
            case ReferralDeclined() as e:
                answer = copy_of(
                    FollowHospital,
                    e,
                    patient_id=patient_id,
                    happening=Happening.DECLINED,
                    when=envelope.occurred_at,
                    detail=e.reason,
                )
                app.follow_hospital(answer, cause)
            case PatientAdmitted(referral_id=UUID()) as e:
                answer = copy_of(
                    FollowHospital,
                    e,
                    patient_id=patient_id,
                    happening=Happening.ADMITTED,
                    when=e.admitted_on,
                )
                app.follow_hospital(answer, cause)
            case PatientDischarged(referral_id=UUID()) as e:
                answer = copy_of(
                    FollowHospital,
                    e,
                    patient_id=patient_id,
                    happening=Happening.DISCHARGED,
                    when=e.discharged_on,
                )
                app.follow_hospital(answer, cause)
            case PatientAdmitted() | PatientDischarged():
                pass  # an admission or discharge that no community referral asked for

    return handle
