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
                app.route_diagnosed_patient(
                    RouteDiagnosedPatient(
                        patient_id=patient_id,
                        diagnosing_hospital_id=e.hospital_id,
                        category=e.category.value,
                        risk_level=e.risk_level,
                        region_code=e.region_code,
                        recorded_at=envelope.recorded_at,
                    ),
                    cause,
                )
            case ReferralRequested() as e:
                app.request_referral(
                    RequestReferral(
                        patient_id=patient_id,
                        referral_id=e.referral_id,
                        case_id=e.case_id,
                        center_id=e.center_id,
                        reason=e.reason.value,
                        risk_level=e.risk_level,
                    ),
                    cause,
                )
            case ReferralWithdrawn() as e:
                app.withdraw_referral(
                    WithdrawReferral(
                        patient_id=patient_id, referral_id=e.referral_id, reason=e.reason
                    ),
                    cause,
                )
            case ReferralAccepted() as e:
                app.follow_hospital(
                    FollowHospital(
                        patient_id=patient_id,
                        referral_id=e.referral_id,
                        hospital_id=e.hospital_id,
                        happening=Happening.ACCEPTED,
                        when=e.accepted_at,
                    ),
                    cause,
                )
            case ReferralDeclined() as e:
                app.follow_hospital(
                    FollowHospital(
                        patient_id=patient_id,
                        referral_id=e.referral_id,
                        hospital_id=e.hospital_id,
                        happening=Happening.DECLINED,
                        when=envelope.occurred_at,
                        detail=e.reason,
                    ),
                    cause,
                )
            case PatientAdmitted(referral_id=UUID() as referral_id) as e:
                app.follow_hospital(
                    FollowHospital(
                        patient_id=patient_id,
                        referral_id=referral_id,
                        hospital_id=e.hospital_id,
                        happening=Happening.ADMITTED,
                        when=e.admitted_on,
                    ),
                    cause,
                )
            case PatientDischarged(referral_id=UUID() as referral_id) as e:
                app.follow_hospital(
                    FollowHospital(
                        patient_id=patient_id,
                        referral_id=referral_id,
                        hospital_id=e.hospital_id,
                        happening=Happening.DISCHARGED,
                        when=e.discharged_on,
                    ),
                    cause,
                )
            case PatientAdmitted() | PatientDischarged():
                pass  # an admission or discharge that no community referral asked for

    return handle
