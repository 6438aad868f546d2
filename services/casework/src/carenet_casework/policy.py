"""Casework's inbound policy: the one table of the integration events casework acts on, each
translated into the command it asks for.

Read from routing's and intake's topics and left alone on purpose: `RoutingPending` and
`ManualRoutingOverdue` (no center yet, so no case), `ReferralIssued` and intake's
`ReferralAccepted` / `ReferralDeclined` (the referral saga is routing's; casework hears how it
ends: an admission, a cancellation, an escalation that closes it), `DiagnosisRecorded`
(routing turns it into `PatientRouted`), `ReportingDeadlineMissed` (the hospital's deadline,
not the center's) and the access log's `RecordAccessed`.
"""

from __future__ import annotations

from typing import Any

from carenet_casework.application import CaseworkApplication
from carenet_casework.commands import (
    EndReferral,
    EraseContactKeys,
    OpenCase,
    ReceiveContactDetails,
    RecordAdmission,
    RecordDischarge,
    RecordReferralNotAdmitted,
    TransferCase,
)
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

CONSUMES = ["routing", "intake"]


def policy(app: CaseworkApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        patient_id = envelope.patient_id
        match envelope.data:
            case PatientRouted() as e:
                app.open_case(
                    OpenCase(
                        patient_id=patient_id,
                        center_id=e.center_id,
                        first_visit_due=e.first_visit_due,
                        social_worker_ids=tuple(e.social_worker_ids),
                        diagnosing_hospital_id=e.diagnosing_hospital_id,
                        category=e.category.value,
                        risk_level=e.risk_level,
                    ),
                    cause,
                )
            case PatientTransferred() as e:
                app.transfer(
                    TransferCase(
                        patient_id=patient_id,
                        to_center_id=e.to_center_id,
                        moved_on=e.moved_on,
                        first_visit_due=e.first_visit_due,
                        social_worker_ids=tuple(e.social_worker_ids),
                    ),
                    cause,
                )
            case PatientAdmitted() as e:
                app.record_admission(
                    RecordAdmission(
                        patient_id=patient_id,
                        admission_id=e.admission_id,
                        hospital_id=e.hospital_id,
                        admitted_on=e.admitted_on,
                    ),
                    cause,
                )
            case PatientDischarged() as e:
                app.record_discharge(
                    RecordDischarge(
                        patient_id=patient_id,
                        admission_id=e.admission_id,
                        discharged_on=e.discharged_on,
                    ),
                    cause,
                )
            case ReferralCancelled() as e:
                app.end_referral(
                    EndReferral(
                        patient_id=patient_id,
                        referral_id=e.referral_id,
                        outcome=f"cancelled: {e.reason}",
                    ),
                    cause,
                )
            case ReferralEscalated(referral_open=False) as e:
                app.record_referral_not_admitted(
                    RecordReferralNotAdmitted(
                        patient_id=patient_id,
                        referral_id=e.referral_id,
                        outcome=e.detail,
                        ended_at=envelope.occurred_at,
                    ),
                    cause,
                )
            case ReferralEscalated():
                pass  # still open: routing keeps looking for a hospital
            case ContactDetailsShared() as e:
                app.receive_contact_details(
                    ReceiveContactDetails(
                        patient_id=patient_id, case_id=e.case_id, sealed=e.sealed
                    ),
                    cause,
                )
            case PersonalDataErased() as e:
                app.erase_contact_keys(
                    EraseContactKeys(
                        patient_id=patient_id,
                        legal_basis=e.legal_basis.value,
                        reference=e.reference,
                    ),
                    cause,
                )

    return handle
