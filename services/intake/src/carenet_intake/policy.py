"""Intake's inbound policy: the one table of the integration events intake acts on, each
translated into the command it asks for. The referrals routing sends to hospitals, and their
cancellation; the cases casework opens, whose center gets the contact details sealed to it."""

from __future__ import annotations

from typing import Any

from carenet_contracts import Envelope
from carenet_contracts.casework import CaseOpened
from carenet_contracts.routing import ReferralCancelled, ReferralIssued
from carenet_intake.application import IntakeApplication
from carenet_intake.commands import CancelReferral, ReceiveReferral, ShareContactDetails
from carenet_kit.fields import copy_of
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause


def policy(app: IntakeApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        patient_id = envelope.patient_id
        match envelope.data:
            case ReferralIssued() as e:
                reason = e.reason.value
                app.receive_referral(
                    copy_of(ReceiveReferral, e, patient_id=patient_id, reason=reason), cause
                )
            case ReferralCancelled() as e:
                app.cancel_referral(copy_of(CancelReferral, e), cause)
            case CaseOpened(contact_key=str()) as e:
                sharing = copy_of(ShareContactDetails, e, patient_id=patient_id)
                app.share_contact_details(sharing, cause)
            case CaseOpened():
                pass  # the center wants no contact details for this case (no key to seal to)

    return handle
