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
from carenet_kit.fields import copy_of
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause

CONSUMES = ["routing", "intake"]


def policy(app: CaseworkApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        patient_id = envelope.patient_id
        match envelope.data:
            case PatientRouted() as e:
                workers = tuple(e.social_worker_ids)
                opening = copy_of(
                    OpenCase,
                    e,
                    patient_id=patient_id,
                    category=e.category.value,
                    social_worker_ids=workers,
                )
                app.open_case(opening, cause)
            case PatientTransferred() as e:
                workers = tuple(e.social_worker_ids)
                app.transfer(
                    copy_of(TransferCase, e, patient_id=patient_id, social_worker_ids=workers),
                    cause,
                )
            case PatientAdmitted() as e:
                app.record_admission(copy_of(RecordAdmission, e, patient_id=patient_id), cause)
            case PatientDischarged() as e:
                app.record_discharge(copy_of(RecordDischarge, e, patient_id=patient_id), cause)
            case ReferralCancelled() as e:
                outcome = f"cancelled: {e.reason}"
                app.end_referral(
                    copy_of(EndReferral, e, patient_id=patient_id, outcome=outcome), cause
                )
            case ReferralEscalated(referral_open=False) as e:
                not_admitted = copy_of(
                    RecordReferralNotAdmitted,
                    e,
                    patient_id=patient_id,
                    outcome=e.detail,
                    ended_at=envelope.occurred_at,
                )
                app.record_referral_not_admitted(not_admitted, cause)
            case ReferralEscalated():
                pass  # still open: routing keeps looking for a hospital
            case ContactDetailsShared() as e:
                app.receive_contact_details(
                    copy_of(ReceiveContactDetails, e, patient_id=patient_id), cause
                )
            case PersonalDataErased() as e:
                basis = e.legal_basis.value
                app.erase_contact_keys(
                    copy_of(EraseContactKeys, e, patient_id=patient_id, legal_basis=basis), cause
                )

    return handle
