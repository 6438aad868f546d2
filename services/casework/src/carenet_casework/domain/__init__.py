"""The community tier's aggregates, one module each."""

from carenet_casework.domain.case import Case, Visit
from carenet_casework.domain.caseload import Caseload

__all__ = ["Case", "Caseload", "Visit"]
