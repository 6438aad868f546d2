"""What the community tier publishes: cases, case managers, visits (producer `casework`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from carenet_contracts.common import (
    OrganisationId,
    RiskLevel,
    VisitClassification,
    VisitMode,
)
from carenet_contracts.envelope import Payload, Producer


class CaseOpened(Payload):
    """The community health center opened the patient's case file."""

    event_type: ClassVar[str] = "CaseOpened"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    first_visit_due: date


class CaseManagerAssigned(Payload):
    """A social worker of the center became the case manager."""

    event_type: ClassVar[str] = "CaseManagerAssigned"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    reason: str


class VisitCompleted(Payload):
    """A follow-up visit happened; the rules classified it and set the next due date."""

    event_type: ClassVar[str] = "VisitCompleted"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    visit_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    visited_on: date
    mode: VisitMode
    risk_level: RiskLevel
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str
