"""Erasure of a patient's personal data on a legal ground (PIPL art. 47, a court order).

The patient's data key is destroyed: the personal data becomes unreadable wherever it was
encrypted under it or under the keys of the patient's cases, while the clinical history stays
and still verifies. Asking again changes nothing and answers the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from carenet_access import Access, Control, Role, for_roles
from carenet_contracts.intake import ErasureBasis
from carenet_intake.api.common import Intake, Strict
from carenet_kit.auth import CurrentActor
from carenet_kit.http import CorrelationId
from carenet_kit.outbox import Cause

router = APIRouter(prefix="/v1", tags=["personal data"])

Reference = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_./:-]{1,64}$",
        description="The request's or court order's file reference; never personal data.",
        examples=["ERASURE-2026-0042"],
    ),
]


class ErasureRequest(Strict):
    patient_id: UUID
    legal_basis: ErasureBasis
    reference: Reference


class ErasureView(BaseModel):
    patient_id: UUID
    legal_basis: ErasureBasis
    reference: str
    erased_at: datetime


@router.post("/erasure-requests", **for_roles(Role.OPERATOR))
def request_erasure(
    body: ErasureRequest,
    intake: Intake,
    corr: CorrelationId,
    actor: CurrentActor,
    control: Control,
    request: Request,
) -> ErasureView:
    """Erase now; a repeated request answers with the first erasure, unchanged."""
    control.enforce_request(request, actor, Access.ERASE, body.patient_id)
    erasure = intake.erase_personal_data(
        body.patient_id, body.legal_basis, body.reference, Cause.request(corr)
    )
    return ErasureView(
        patient_id=body.patient_id,
        legal_basis=ErasureBasis(erasure.legal_basis),
        reference=erasure.reference,
        erased_at=erasure.erased_at,
    )
