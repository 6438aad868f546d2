"""The read model's screenings: each patient's, and the residents' of each center."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from carenet_casework.domain import Screening
from carenet_casework.projection import CareBoard
from carenet_kit.fields import copy_of
from carenet_kit.read_model_tables import Changes
from carenet_kit.sql_tables import Table


@dataclass
class ScreeningView:
    screening_id: UUID
    patient_id: UUID | None
    resident_ref: str | None
    center_id: str
    screened_by: str
    screened_on: date
    instrument: str
    answers: list[int]
    total_score: int
    band: str
    urgent: bool
    proposes_risk_review: bool
    provider: str
    model: str
    provider_version: str


SCREENINGS = Table(
    "board_screenings",
    ScreeningView,
    key=lambda s: s.screening_id,
    columns={"patient_id": lambda s: s.patient_id, "center_id": lambda s: s.center_id},
)


class CaseworkBoard(CareBoard):
    """Casework's whole read model: the care board and the screenings."""

    tables: ClassVar[Sequence[Table[Any]]] = (*CareBoard.tables, SCREENINGS)

    def apply(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        super().apply(domain_event, changes)
        self._apply_screenings(domain_event, changes)

    @singledispatchmethod
    def _apply_screenings(self, domain_event: DomainEventProtocol[UUID], changes: Changes) -> None:
        """Events this part of the read model does not need are ignored."""

    @_apply_screenings.register
    def _(self, e: Screening.Completed, changes: Changes) -> None:
        changes.add(SCREENINGS, copy_of(ScreeningView, e))

    def screenings_of(self, patient_id: UUID) -> list[ScreeningView]:
        return self.where(SCREENINGS, patient_id=patient_id)

    def residents_screened_at(self, center_id: str) -> list[ScreeningView]:
        return [s for s in self.where(SCREENINGS, center_id=center_id) if s.patient_id is None]
