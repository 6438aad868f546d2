"""Routing's inbound policy: which integration events it acts on, and with which command."""

from __future__ import annotations

from typing import Any

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

CONSUMES = ["intake", "casework"]


def policy(app: RoutingApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        match envelope.data:
            case DiagnosisRecorded():
                app.route_diagnosed_patient(envelope, cause)
            case ReferralRequested():
                app.request_referral(envelope, cause)
            case ReferralWithdrawn():
                app.withdraw_referral(envelope, cause)
            case ReferralAccepted() | ReferralDeclined() | PatientAdmitted() | PatientDischarged():
                app.follow_hospital(envelope, cause)

    return handle
