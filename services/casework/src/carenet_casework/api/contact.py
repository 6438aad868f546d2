"""The patient's contact details, for the case's center: opened from the sealed copy on read.

Open for now: the lead's policy restricts it to the care team of the center the case is at.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from carenet_access import Access, guarded
from carenet_casework.api.deps import CaseworkDep

router = APIRouter(prefix="/v1", tags=["cases"])


class ContactOut(BaseModel):
    case_id: UUID
    name: str
    phone: str
    address: str


@router.get(
    "/cases/{case_id}/contact",
    responses={
        404: {"description": "No such case, or the hospital has not shared the details yet."},
        410: {"description": "The patient's personal data was erased."},
    },
    **guarded(Access.READ_IDENTITY, "case"),
)
def read_contact(case_id: UUID, casework: CaseworkDep) -> ContactOut:
    contact = casework.contact(case_id)
    return ContactOut(case_id=case_id, **contact.__dict__)
