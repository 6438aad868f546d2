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
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause


def policy(app: IntakeApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        patient_id = envelope.patient_id
        match envelope.data:
            case ReferralIssued() as e:
                app.receive_referral(
                    ReceiveReferral(
                        patient_id=patient_id,
                        referral_id=e.referral_id,
                        case_id=e.case_id,
                        from_center_id=e.from_center_id,
                        hospital_id=e.hospital_id,
                        reason=e.reason.value,
                        risk_level=e.risk_level,
                        accept_by=e.accept_by,
                    ),
                    cause,
                )
            case ReferralCancelled() as e:
                app.cancel_referral(
                    CancelReferral(
                        referral_id=e.referral_id, hospital_id=e.hospital_id, reason=e.reason
                    ),
                    cause,
                )
            case CaseOpened(contact_key=str() as contact_key) as e:
                app.share_contact_details(
                    ShareContactDetails(
                        patient_id=patient_id,
                        case_id=e.case_id,
                        center_id=e.center_id,
                        contact_key=contact_key,
                    ),
                    cause,
                )
            case CaseOpened():
                pass  # the center wants no contact details for this case (no key to seal to)

    return handle
