"""CareNet's integration events: the only shapes that cross a service boundary."""

from carenet_contracts.envelope import Envelope, Payload, Producer, envelope_of
from carenet_contracts.events import (
    CaseManagerAssigned,
    CaseOpened,
    DiagnosisCategory,
    DiagnosisRecorded,
    NotificationDelivered,
    PatientRouted,
    RoutingPending,
    VisitClassification,
    VisitCompleted,
    VisitMode,
)
from carenet_contracts.registry import CONTRACTS, ContractError, parse_message

__all__ = [
    "CONTRACTS",
    "CaseManagerAssigned",
    "CaseOpened",
    "ContractError",
    "DiagnosisCategory",
    "DiagnosisRecorded",
    "Envelope",
    "NotificationDelivered",
    "PatientRouted",
    "Payload",
    "Producer",
    "RoutingPending",
    "VisitClassification",
    "VisitCompleted",
    "VisitMode",
    "envelope_of",
    "parse_message",
]
