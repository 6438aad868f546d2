"""Casework's outbound mapper: cases, case managers and completed visits become public events.

Visit details beyond the classification (symptoms, notes, who was seen) stay in casework.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import Case
from carenet_contracts import VisitClassification, VisitMode
from carenet_contracts.casework import CaseManagerAssigned, CaseOpened, VisitCompleted
from carenet_kit.outbox import Outgoing


def to_integration_event(domain_event: DomainEventProtocol[UUID]) -> Outgoing | None:
    match domain_event:
        case Case.Opened() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CaseOpened(
                    case_id=e.originator_id,
                    center_id=e.center_id,
                    first_visit_due=e.first_visit_due,
                ),
            )
        case Case.ManagerAssigned() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=e.timestamp,
                payload=CaseManagerAssigned(
                    case_id=e.originator_id,
                    center_id=e.center_id,
                    case_manager_id=e.case_manager_id,
                    reason=e.reason,
                ),
            )
        case Case.VisitRecorded() as e:
            return Outgoing(
                patient_id=e.patient_id,
                occurred_at=datetime.combine(e.visited_on, datetime.min.time(), UTC),
                payload=VisitCompleted(
                    case_id=e.originator_id,
                    visit_id=e.visit_id,
                    center_id=e.center_id,
                    case_manager_id=e.case_manager_id,
                    visited_on=e.visited_on,
                    mode=VisitMode(e.mode),
                    risk_level=e.risk_level,
                    classification=VisitClassification(e.classification),
                    next_follow_up_due=e.next_follow_up_due,
                    rule_set_version=e.rule_set_version,
                ),
            )
    return None
