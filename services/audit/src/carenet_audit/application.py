"""The audit service layer: answer a patient's history to auditors, and record every request.

The request is recorded (`HistoryRead`, published as `PatientHistoryRead` through the outbox)
in the same call that answers it, and before the answer leaves: if it cannot be recorded, the
caller gets an error and no history. Denials are recorded too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID

from carenet_audit.domain import EmergencyAccess, HistoryRead
from carenet_audit.projection import HistoryEntry, HistoryIndex
from carenet_contracts.audit import Purpose
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.auth import Actor
from carenet_kit.clock import Clock
from carenet_kit.fields import copy_of
from carenet_kit.lease import creating_tables
from carenet_kit.outbox import Cause

AUDITOR_ROLE = "auditor"


@dataclass(frozen=True)
class HistoryRequest:
    patient_id: UUID
    purpose: Purpose
    justification: str
    as_of: datetime | None = None


class HistoryDenied(Exception):
    """The actor may not read patient histories (the refusal is recorded all the same)."""


@dataclass(frozen=True)
class Grant:
    grant_id: UUID
    expires_at: datetime


class AuditApplication(ServiceApplication):
    producer: ClassVar = "audit"

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        clock: Clock | None = None,
        emergency_access: timedelta = timedelta(hours=4),
    ) -> None:
        super().__init__(env, outbound, clock)
        with creating_tables(self.env):  # replicas starting together on a new database
            self.index = HistoryIndex.construct(self.factory)
        self.emergency_access = emergency_access

    def break_the_glass(self, actor: Actor, patient_id: UUID, reason: str, cause: Cause) -> Grant:
        """Grant `actor` emergency access to the patient's record for a limited time; the
        grant is published, so every service honours it and the patient's center is told."""
        expires_at = self.clock.now() + self.emergency_access
        grant = EmergencyAccess(
            patient_id=patient_id,
            reader_id=actor.subject,
            reader_organisation=actor.organisation,
            reader_role=actor.role,
            reason=reason,
            expires_at=expires_at,
        )
        self.commit(grant, cause=cause)
        return Grant(grant.id, expires_at)

    def read_history(
        self, actor: Actor, request: HistoryRequest, cause: Cause
    ) -> list[HistoryEntry]:
        """The patient's messages recorded up to `as_of`; raises `HistoryDenied` for a
        non-auditor. Either way the request is recorded first."""
        granted = actor.role == AUDITOR_ROLE
        entries = self.index.history(request.patient_id, request.as_of) if granted else []
        read = copy_of(
            HistoryRead,
            request,
            reader_id=actor.subject,
            reader_organisation=actor.organisation,
            reader_role=actor.role,
            granted=granted,
            events_returned=len(entries),
        )
        self.commit(read, cause=cause)
        if not granted:
            raise HistoryDenied(f"role {actor.role!r} may not read patient histories")
        return entries
