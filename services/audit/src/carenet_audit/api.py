"""The audit service's HTTP API: one patient's history, for auditors, every request recorded;
and break-the-glass, emergency access to a record outside one's care network.

Both are POSTs, so that neither the patient id nor the purpose ever sits in a URL or a log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from carenet_access import EXTENSION, Control, Role, for_roles
from carenet_audit.application import AuditApplication, HistoryDenied, HistoryRequest
from carenet_audit.projection import HistoryEntry
from carenet_contracts.audit import Purpose
from carenet_kit.auth import CurrentActor
from carenet_kit.fields import copy_of
from carenet_kit.http import CorrelationId, from_app_state
from carenet_kit.outbox import Cause
from carenet_kit.threads import in_thread

router = APIRouter(prefix="/v1", tags=["audit"])

Application = Annotated[AuditApplication, from_app_state("application")]


class HistoryQuery(BaseModel):
    patient_id: UUID
    purpose: Purpose
    justification: str = Field(
        min_length=1,
        max_length=200,
        description="Why, e.g. a case or complaint number; never personal data.",
    )
    as_of: AwareDatetime | None = Field(
        default=None, description="What the network had recorded at that moment (recorded_at)."
    )

    @field_validator("as_of", mode="before")
    @classmethod
    def _iso_8601(cls, value: object) -> object:
        """A date-time string, as the document says: a bare number is not read as epoch seconds."""
        if value is not None and not isinstance(value, str):
            raise ValueError("as_of is an ISO 8601 date-time string")
        return value


class HistoryMessage(BaseModel):
    topic: str
    partition: int
    offset: int
    producer: str
    sequence: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    value: str = Field(description="The message exactly as it was published (UTF-8 JSON).")
    key_id: str | None = Field(description="The producer's signing key (`carenet_key_id`).")
    signature: str | None = Field(description="Its signature of `value` (`carenet_signature`).")

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryMessage:
        return copy_of(cls, entry, value=entry.value.decode())


class PatientHistory(BaseModel):
    patient_id: UUID
    as_of: datetime | None
    messages: list[HistoryMessage]


@router.post(
    "/patient-histories",
    summary="One patient's whole history (auditors only; the request is recorded)",
    responses={401: {"description": "No valid token"}, 403: {"description": "Not an auditor"}},
    openapi_extra={EXTENSION: {"access": "roles", "roles": [Role.AUDITOR]}},
)
async def read_history(
    query: HistoryQuery, actor: CurrentActor, app: Application, correlation_id: CorrelationId
) -> PatientHistory:
    request = HistoryRequest(query.patient_id, query.purpose, query.justification, query.as_of)
    try:
        entries = await in_thread(app.read_history, actor, request, Cause.request(correlation_id))
    except HistoryDenied as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error
    return PatientHistory(
        patient_id=query.patient_id,
        as_of=query.as_of,
        messages=[HistoryMessage.of(entry) for entry in entries],
    )


class EmergencyAccessRequest(BaseModel):
    patient_id: UUID
    reason: str = Field(
        min_length=10,
        max_length=300,
        description="The emergency, stated for the record; never personal data.",
    )


class EmergencyAccessOut(BaseModel):
    grant_id: UUID
    patient_id: UUID
    expires_at: datetime


@router.post(
    "/emergency-accesses",
    status_code=status.HTTP_201_CREATED,
    summary="Break the glass: read a record outside your care network, for a stated reason",
    **for_roles(Role.CLINICIAN, Role.COMMUNITY_DOCTOR),
)
def break_the_glass(
    body: EmergencyAccessRequest,
    actor: CurrentActor,
    app: Application,
    control: Control,
    correlation_id: CorrelationId,
) -> EmergencyAccessOut:
    """Time-limited, recorded and published: the patient's center is told, every read made
    under it names the grant, and auditors see both."""
    if control.relations(body.patient_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    grant = app.break_the_glass(actor, body.patient_id, body.reason, Cause.request(correlation_id))
    return EmergencyAccessOut(
        grant_id=grant.grant_id, patient_id=body.patient_id, expires_at=grant.expires_at
    )
