"""Intake's inbound policy: the referrals routing sends to hospitals, and their cancellation;
the cases casework opens, whose center gets the contact details sealed to it."""

from __future__ import annotations

from typing import Any

from carenet_contracts import Envelope
from carenet_contracts.casework import CaseOpened
from carenet_contracts.routing import ReferralCancelled, ReferralIssued
from carenet_intake.application import IntakeApplication
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause


def policy(app: IntakeApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        if isinstance(envelope.data, ReferralIssued):
            app.receive_referral(envelope.data, envelope.patient_id, cause)
        elif isinstance(envelope.data, ReferralCancelled):
            app.cancel_referral(envelope.data, cause)
        elif isinstance(envelope.data, CaseOpened):
            app.share_contact_details(envelope, cause)

    return handle
