"""CareNet's integration events: the only shapes that cross a service boundary.

The payloads live in one module per producer (`carenet_contracts.intake`, `.routing`,
`.casework`, `.notifications`, `.audit`); shared vocabularies in `carenet_contracts.common`.
"""

from carenet_contracts.common import DiagnosisCategory, VisitClassification, VisitMode
from carenet_contracts.envelope import Envelope, Payload, Producer, envelope_of
from carenet_contracts.registry import CONTRACTS, CURRENT, ContractError, parse_message

__all__ = [
    "CONTRACTS",
    "CURRENT",
    "ContractError",
    "DiagnosisCategory",
    "Envelope",
    "Payload",
    "Producer",
    "VisitClassification",
    "VisitMode",
    "envelope_of",
    "parse_message",
]
