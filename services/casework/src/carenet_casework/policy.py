"""Casework's inbound policy: what routing and the hospitals report becomes case work."""

from __future__ import annotations

from typing import Any

from carenet_casework.application import CaseworkApplication
from carenet_contracts import Envelope
from carenet_contracts.intake import (
    ContactDetailsShared,
    PatientAdmitted,
    PatientDischarged,
    PersonalDataErased,
)
from carenet_contracts.routing import (
    PatientRouted,
    PatientTransferred,
    ReferralCancelled,
    ReferralEscalated,
)
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause


def policy(app: CaseworkApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        patient_id = envelope.patient_id
        match envelope.data:
            case PatientRouted():
                app.open_case(envelope, cause)
            case PatientTransferred():
                app.transfer(envelope, cause)
            case PatientAdmitted() as e:
                app.patient_admitted(
                    patient_id, e.admission_id, e.hospital_id, e.admitted_on, cause
                )
            case PatientDischarged() as e:
                app.patient_discharged(patient_id, e.admission_id, e.discharged_on, cause)
            case ReferralCancelled() as e:
                app.referral_ended(patient_id, e.referral_id, f"cancelled: {e.reason}", cause)
            case ContactDetailsShared():
                app.receive_contact_details(envelope, cause)
            case PersonalDataErased():
                app.erase_contact_keys(envelope, cause)
            case ReferralEscalated(referral_open=False) as e:
                app.referral_not_admitted(
                    patient_id, e.referral_id, e.detail, envelope.occurred_at, cause
                )

    return handle
